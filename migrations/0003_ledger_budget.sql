-- The ledger's write budget (issue 9). Hand-edited after drizzle-kit generate:
-- * stripe_events is rebuilt keyed by `seq` (arrival order, the rowid) with a unique index on id.
--   Existing rows get seq = received_at in microseconds (+ a tie-breaker); `queued` rows become
--   `received`; a processing row's lease moves to lease_until. Non-final rows keep redrive_at, so the
--   cron still looks at them. The old indexes on status and (type, created) go: a status change of a
--   normal event touches no index now.
-- * The billing tables, fulfilments and job_state are rebuilt WITHOUT ROWID (drizzle cannot say so):
--   keyed by their text primary key alone, a new row costs one row written instead of two. Their
--   raw JSON column goes (see src/db/billing-schema.ts).
CREATE TABLE `__new_stripe_events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`api_version` text,
	`livemode` integer NOT NULL,
	`account` text,
	`created` integer NOT NULL,
	`received_at` integer NOT NULL,
	`status` text DEFAULT 'received' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`lease_until` integer,
	`redrive_at` integer,
	`last_error` text,
	`processed_at` integer,
	`secret_index` integer,
	`source` text DEFAULT 'webhook' NOT NULL,
	`payload` text NOT NULL,
	CONSTRAINT "stripe_events_status_check" CHECK(status IN ('received', 'processing', 'processed', 'ignored', 'failed', 'dead'))
);
--> statement-breakpoint
INSERT INTO `__new_stripe_events`("seq", "id", "type", "api_version", "livemode", "account", "created", "received_at", "status", "attempts", "lease_until", "redrive_at", "last_error", "processed_at", "secret_index", "source", "payload")
SELECT "received_at" * 1000 + ROW_NUMBER() OVER (PARTITION BY "received_at" ORDER BY "id") - 1, "id", "type", "api_version", "livemode", "account", "created", "received_at",
	CASE "status" WHEN 'queued' THEN 'received' ELSE "status" END, "attempts",
	CASE "status" WHEN 'processing' THEN "redrive_at" END,
	CASE WHEN "status" IN ('received', 'queued', 'processing', 'failed') THEN coalesce("redrive_at", 0) END,
	"last_error", "processed_at", "secret_index", "source", "payload"
FROM `stripe_events`;--> statement-breakpoint
DROP TABLE `stripe_events`;--> statement-breakpoint
ALTER TABLE `__new_stripe_events` RENAME TO `stripe_events`;--> statement-breakpoint
CREATE UNIQUE INDEX `stripe_events_id_unique` ON `stripe_events` (`id`);--> statement-breakpoint
CREATE INDEX `stripe_events_type_idx` ON `stripe_events` (`type`);--> statement-breakpoint
CREATE INDEX `stripe_events_redrive_idx` ON `stripe_events` (`redrive_at`) WHERE redrive_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX `stripe_events_attention_idx` ON `stripe_events` (`status`) WHERE status IN ('failed', 'dead');--> statement-breakpoint
CREATE TABLE `__new_charges` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text,
	`payment_intent_id` text,
	`status` text NOT NULL,
	`amount` integer NOT NULL,
	`amount_refunded` integer NOT NULL,
	`refunded` integer NOT NULL,
	`currency` text NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `__new_charges`("id", "customer_id", "payment_intent_id", "status", "amount", "amount_refunded", "refunded", "currency", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT "id", "customer_id", "payment_intent_id", "status", "amount", "amount_refunded", "refunded", "currency", "livemode", "last_event_created", "last_event_id", "updated_at" FROM `charges`;--> statement-breakpoint
DROP TABLE `charges`;--> statement-breakpoint
ALTER TABLE `__new_charges` RENAME TO `charges`;--> statement-breakpoint
CREATE INDEX `charges_payment_intent_idx` ON `charges` (`payment_intent_id`);--> statement-breakpoint
CREATE TABLE `__new_checkout_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text,
	`mode` text NOT NULL,
	`status` text,
	`payment_status` text NOT NULL,
	`subscription_id` text,
	`payment_intent_id` text,
	`client_reference_id` text,
	`amount_total` integer,
	`currency` text,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `__new_checkout_sessions`("id", "customer_id", "mode", "status", "payment_status", "subscription_id", "payment_intent_id", "client_reference_id", "amount_total", "currency", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT "id", "customer_id", "mode", "status", "payment_status", "subscription_id", "payment_intent_id", "client_reference_id", "amount_total", "currency", "livemode", "last_event_created", "last_event_id", "updated_at" FROM `checkout_sessions`;--> statement-breakpoint
DROP TABLE `checkout_sessions`;--> statement-breakpoint
ALTER TABLE `__new_checkout_sessions` RENAME TO `checkout_sessions`;--> statement-breakpoint
CREATE INDEX `checkout_sessions_customer_idx` ON `checkout_sessions` (`customer_id`);--> statement-breakpoint
CREATE TABLE `__new_customers` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text,
	`name` text,
	`deleted` integer DEFAULT false NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `__new_customers`("id", "email", "name", "deleted", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT "id", "email", "name", "deleted", "livemode", "last_event_created", "last_event_id", "updated_at" FROM `customers`;--> statement-breakpoint
DROP TABLE `customers`;--> statement-breakpoint
ALTER TABLE `__new_customers` RENAME TO `customers`;--> statement-breakpoint
CREATE TABLE `__new_fulfilments` (
	`object_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`event_id` text NOT NULL,
	`claimed_until` integer NOT NULL,
	`completed_at` integer,
	PRIMARY KEY(`object_id`, `kind`)
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `__new_fulfilments`("object_id", "kind", "status", "event_id", "claimed_until", "completed_at") SELECT "object_id", "kind", "status", "event_id", "claimed_until", "completed_at" FROM `fulfilments`;--> statement-breakpoint
DROP TABLE `fulfilments`;--> statement-breakpoint
ALTER TABLE `__new_fulfilments` RENAME TO `fulfilments`;--> statement-breakpoint
CREATE TABLE `__new_invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text,
	`subscription_id` text,
	`status` text,
	`amount_paid` integer NOT NULL,
	`amount_due` integer NOT NULL,
	`currency` text NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `__new_invoices`("id", "customer_id", "subscription_id", "status", "amount_paid", "amount_due", "currency", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT "id", "customer_id", "subscription_id", "status", "amount_paid", "amount_due", "currency", "livemode", "last_event_created", "last_event_id", "updated_at" FROM `invoices`;--> statement-breakpoint
DROP TABLE `invoices`;--> statement-breakpoint
ALTER TABLE `__new_invoices` RENAME TO `invoices`;--> statement-breakpoint
CREATE INDEX `invoices_customer_idx` ON `invoices` (`customer_id`);--> statement-breakpoint
CREATE INDEX `invoices_subscription_idx` ON `invoices` (`subscription_id`);--> statement-breakpoint
CREATE TABLE `__new_payment_intents` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text,
	`status` text NOT NULL,
	`amount` integer NOT NULL,
	`amount_received` integer NOT NULL,
	`currency` text NOT NULL,
	`last_error` text,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `__new_payment_intents`("id", "customer_id", "status", "amount", "amount_received", "currency", "last_error", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT "id", "customer_id", "status", "amount", "amount_received", "currency", "last_error", "livemode", "last_event_created", "last_event_id", "updated_at" FROM `payment_intents`;--> statement-breakpoint
DROP TABLE `payment_intents`;--> statement-breakpoint
ALTER TABLE `__new_payment_intents` RENAME TO `payment_intents`;--> statement-breakpoint
CREATE INDEX `payment_intents_customer_idx` ON `payment_intents` (`customer_id`);--> statement-breakpoint
CREATE TABLE `__new_subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`status` text NOT NULL,
	`price_ids` text NOT NULL,
	`current_period_end` integer,
	`cancel_at_period_end` integer NOT NULL,
	`cancel_at` integer,
	`canceled_at` integer,
	`trial_end` integer,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `__new_subscriptions`("id", "customer_id", "status", "price_ids", "current_period_end", "cancel_at_period_end", "cancel_at", "canceled_at", "trial_end", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT "id", "customer_id", "status", "price_ids", "current_period_end", "cancel_at_period_end", "cancel_at", "canceled_at", "trial_end", "livemode", "last_event_created", "last_event_id", "updated_at" FROM `subscriptions`;--> statement-breakpoint
DROP TABLE `subscriptions`;--> statement-breakpoint
ALTER TABLE `__new_subscriptions` RENAME TO `subscriptions`;--> statement-breakpoint
CREATE INDEX `subscriptions_customer_idx` ON `subscriptions` (`customer_id`);--> statement-breakpoint
CREATE TABLE `__new_job_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
) WITHOUT ROWID;--> statement-breakpoint
INSERT INTO `__new_job_state`("key", "value", "updated_at") SELECT "key", "value", "updated_at" FROM `job_state`;--> statement-breakpoint
DROP TABLE `job_state`;--> statement-breakpoint
ALTER TABLE `__new_job_state` RENAME TO `job_state`;