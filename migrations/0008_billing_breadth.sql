-- Billing state an app can gate on (issue 19). Hand-edited after drizzle-kit generate:
-- * Every billing table is keyed by (account, id): `account` is '' for the platform's own objects and
--   the connected account (acct_…) for a connected account's, so one account's object can never answer
--   for another's. Existing rows are the platform's. The tables are rebuilt WITHOUT ROWID, as in 0003.
-- * subscriptions keep every item (items, JSON) and the app's user id from metadata; an existing row's
--   items are rebuilt from its price ids (products and quantities unknown until its next event, so
--   items_complete = 0); invoices keep their attempt_count; customers the app's user id.
-- * New tables: the catalogue (products, prices), Stripe Entitlements (active_entitlements and the
--   version of each customer's set in entitlement_sets), access_states for the access lifecycle hooks.
-- * fulfilments are keyed by (account, object_id, kind).
CREATE TABLE `access_states` (
	`account` text DEFAULT '' NOT NULL,
	`customer_id` text NOT NULL,
	`entitled` integer NOT NULL,
	`generation` integer NOT NULL,
	`changed_at` integer NOT NULL,
	PRIMARY KEY(`account`, `customer_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `active_entitlements` (
	`account` text DEFAULT '' NOT NULL,
	`customer_id` text NOT NULL,
	`feature_id` text NOT NULL,
	`lookup_key` text NOT NULL,
	`entitlement_id` text,
	PRIMARY KEY(`account`, `customer_id`, `feature_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `entitlement_sets` (
	`account` text DEFAULT '' NOT NULL,
	`customer_id` text NOT NULL,
	`complete` integer NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account`, `customer_id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `prices` (
	`account` text DEFAULT '' NOT NULL,
	`id` text NOT NULL,
	`product_id` text,
	`active` integer NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`currency` text,
	`unit_amount` integer,
	`recurring_interval` text,
	`lookup_key` text,
	`nickname` text,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `products` (
	`account` text DEFAULT '' NOT NULL,
	`id` text NOT NULL,
	`name` text NOT NULL,
	`active` integer NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`default_price_id` text,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `__new_charges` (
	`account` text DEFAULT '' NOT NULL,
	`id` text NOT NULL,
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
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_charges`("account", "id", "customer_id", "payment_intent_id", "status", "amount", "amount_refunded", "refunded", "currency", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT '', "id", "customer_id", "payment_intent_id", "status", "amount", "amount_refunded", "refunded", "currency", "livemode", "last_event_created", "last_event_id", "updated_at" FROM `charges`;
--> statement-breakpoint
DROP TABLE `charges`;
--> statement-breakpoint
ALTER TABLE `__new_charges` RENAME TO `charges`;
--> statement-breakpoint
CREATE INDEX `charges_payment_intent_idx` ON `charges` (`account`,`payment_intent_id`);
--> statement-breakpoint
CREATE TABLE `__new_checkout_sessions` (
	`account` text DEFAULT '' NOT NULL,
	`id` text NOT NULL,
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
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_checkout_sessions`("account", "id", "customer_id", "mode", "status", "payment_status", "subscription_id", "payment_intent_id", "client_reference_id", "amount_total", "currency", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT '', "id", "customer_id", "mode", "status", "payment_status", "subscription_id", "payment_intent_id", "client_reference_id", "amount_total", "currency", "livemode", "last_event_created", "last_event_id", "updated_at" FROM `checkout_sessions`;
--> statement-breakpoint
DROP TABLE `checkout_sessions`;
--> statement-breakpoint
ALTER TABLE `__new_checkout_sessions` RENAME TO `checkout_sessions`;
--> statement-breakpoint
CREATE INDEX `checkout_sessions_customer_idx` ON `checkout_sessions` (`account`,`customer_id`);
--> statement-breakpoint
CREATE INDEX `checkout_sessions_app_user_idx` ON `checkout_sessions` (`account`,`client_reference_id`) WHERE client_reference_id IS NOT NULL;
--> statement-breakpoint
CREATE TABLE `__new_invoices` (
	`account` text DEFAULT '' NOT NULL,
	`id` text NOT NULL,
	`customer_id` text,
	`subscription_id` text,
	`status` text,
	`amount_paid` integer NOT NULL,
	`amount_due` integer NOT NULL,
	`currency` text NOT NULL,
	`attempt_count` integer DEFAULT 0 NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_invoices`("account", "id", "customer_id", "subscription_id", "status", "amount_paid", "amount_due", "currency", "attempt_count", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT '', "id", "customer_id", "subscription_id", "status", "amount_paid", "amount_due", "currency", 0, "livemode", "last_event_created", "last_event_id", "updated_at" FROM `invoices`;
--> statement-breakpoint
DROP TABLE `invoices`;
--> statement-breakpoint
ALTER TABLE `__new_invoices` RENAME TO `invoices`;
--> statement-breakpoint
CREATE INDEX `invoices_customer_idx` ON `invoices` (`account`,`customer_id`);
--> statement-breakpoint
CREATE INDEX `invoices_subscription_idx` ON `invoices` (`account`,`subscription_id`);
--> statement-breakpoint
CREATE TABLE `__new_payment_intents` (
	`account` text DEFAULT '' NOT NULL,
	`id` text NOT NULL,
	`customer_id` text,
	`status` text NOT NULL,
	`amount` integer NOT NULL,
	`amount_received` integer NOT NULL,
	`currency` text NOT NULL,
	`last_error` text,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_payment_intents`("account", "id", "customer_id", "status", "amount", "amount_received", "currency", "last_error", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT '', "id", "customer_id", "status", "amount", "amount_received", "currency", "last_error", "livemode", "last_event_created", "last_event_id", "updated_at" FROM `payment_intents`;
--> statement-breakpoint
DROP TABLE `payment_intents`;
--> statement-breakpoint
ALTER TABLE `__new_payment_intents` RENAME TO `payment_intents`;
--> statement-breakpoint
CREATE INDEX `payment_intents_customer_idx` ON `payment_intents` (`account`,`customer_id`);
--> statement-breakpoint
CREATE TABLE `__new_subscriptions` (
	`account` text DEFAULT '' NOT NULL,
	`id` text NOT NULL,
	`customer_id` text NOT NULL,
	`status` text NOT NULL,
	`price_ids` text NOT NULL,
	`items` text DEFAULT '[]' NOT NULL,
	`items_complete` integer DEFAULT true NOT NULL,
	`current_period_end` integer,
	`cancel_at_period_end` integer NOT NULL,
	`cancel_at` integer,
	`canceled_at` integer,
	`trial_end` integer,
	`app_user_id` text,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_subscriptions`("account", "id", "customer_id", "status", "price_ids", "items", "items_complete", "current_period_end", "cancel_at_period_end", "cancel_at", "canceled_at", "trial_end", "app_user_id", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT '', "id", "customer_id", "status", "price_ids", (SELECT json_group_array(json_object('id', NULL, 'priceId', value, 'productId', NULL, 'quantity', NULL)) FROM json_each("price_ids")), 0, "current_period_end", "cancel_at_period_end", "cancel_at", "canceled_at", "trial_end", NULL, "livemode", "last_event_created", "last_event_id", "updated_at" FROM `subscriptions`;
--> statement-breakpoint
DROP TABLE `subscriptions`;
--> statement-breakpoint
ALTER TABLE `__new_subscriptions` RENAME TO `subscriptions`;
--> statement-breakpoint
CREATE INDEX `subscriptions_customer_idx` ON `subscriptions` (`account`,`customer_id`);
--> statement-breakpoint
CREATE INDEX `subscriptions_app_user_idx` ON `subscriptions` (`account`,`app_user_id`) WHERE app_user_id IS NOT NULL;
--> statement-breakpoint
CREATE TABLE `__new_fulfilments` (
	`account` text DEFAULT '' NOT NULL,
	`object_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`event_id` text NOT NULL,
	`claimed_until` integer NOT NULL,
	`completed_at` integer,
	PRIMARY KEY(`account`, `object_id`, `kind`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_fulfilments`("account", "object_id", "kind", "status", "event_id", "claimed_until", "completed_at") SELECT '', "object_id", "kind", "status", "event_id", "claimed_until", "completed_at" FROM `fulfilments`;
--> statement-breakpoint
DROP TABLE `fulfilments`;
--> statement-breakpoint
ALTER TABLE `__new_fulfilments` RENAME TO `fulfilments`;
--> statement-breakpoint
CREATE TABLE `__new_customers` (
	`account` text DEFAULT '' NOT NULL,
	`id` text NOT NULL,
	`email` text,
	`name` text,
	`deleted` integer DEFAULT false NOT NULL,
	`app_user_id` text,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`account`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_customers`("account", "id", "email", "name", "deleted", "app_user_id", "livemode", "last_event_created", "last_event_id", "updated_at") SELECT '', "id", "email", "name", "deleted", NULL, "livemode", "last_event_created", "last_event_id", "updated_at" FROM `customers`;
--> statement-breakpoint
DROP TABLE `customers`;
--> statement-breakpoint
ALTER TABLE `__new_customers` RENAME TO `customers`;
--> statement-breakpoint
CREATE INDEX `customers_app_user_idx` ON `customers` (`account`,`app_user_id`) WHERE app_user_id IS NOT NULL;
