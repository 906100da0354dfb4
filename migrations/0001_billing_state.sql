CREATE TABLE `charges` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text,
	`payment_intent_id` text,
	`status` text NOT NULL,
	`amount` integer NOT NULL,
	`amount_refunded` integer NOT NULL,
	`refunded` integer NOT NULL,
	`currency` text NOT NULL,
	`raw` text NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `charges_payment_intent_idx` ON `charges` (`payment_intent_id`);--> statement-breakpoint
CREATE TABLE `checkout_sessions` (
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
	`raw` text NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `checkout_sessions_customer_idx` ON `checkout_sessions` (`customer_id`);--> statement-breakpoint
CREATE TABLE `customers` (
	`id` text PRIMARY KEY NOT NULL,
	`email` text,
	`name` text,
	`deleted` integer DEFAULT false NOT NULL,
	`raw` text NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `fulfilments` (
	`object_id` text NOT NULL,
	`kind` text NOT NULL,
	`status` text NOT NULL,
	`event_id` text NOT NULL,
	`claimed_until` integer NOT NULL,
	`completed_at` integer,
	PRIMARY KEY(`object_id`, `kind`)
);
--> statement-breakpoint
CREATE TABLE `invoices` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text,
	`subscription_id` text,
	`status` text,
	`amount_paid` integer NOT NULL,
	`amount_due` integer NOT NULL,
	`currency` text NOT NULL,
	`raw` text NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `invoices_customer_idx` ON `invoices` (`customer_id`);--> statement-breakpoint
CREATE INDEX `invoices_subscription_idx` ON `invoices` (`subscription_id`);--> statement-breakpoint
CREATE TABLE `job_state` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `payment_intents` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text,
	`status` text NOT NULL,
	`amount` integer NOT NULL,
	`amount_received` integer NOT NULL,
	`currency` text NOT NULL,
	`last_error` text,
	`raw` text NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `payment_intents_customer_idx` ON `payment_intents` (`customer_id`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`customer_id` text NOT NULL,
	`status` text NOT NULL,
	`price_ids` text NOT NULL,
	`current_period_end` integer,
	`cancel_at_period_end` integer NOT NULL,
	`cancel_at` integer,
	`canceled_at` integer,
	`trial_end` integer,
	`raw` text NOT NULL,
	`livemode` integer NOT NULL,
	`last_event_created` integer NOT NULL,
	`last_event_id` text NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `subscriptions_customer_idx` ON `subscriptions` (`customer_id`);