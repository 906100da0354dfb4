CREATE TABLE `stripe_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`api_version` text,
	`livemode` integer NOT NULL,
	`account` text,
	`created` integer NOT NULL,
	`received_at` integer NOT NULL,
	`status` text DEFAULT 'received' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`last_error` text,
	`processed_at` integer,
	`redrive_at` integer,
	`secret_index` integer,
	`payload` text NOT NULL,
	CONSTRAINT "stripe_events_status_check" CHECK(status IN ('received', 'queued', 'processing', 'processed', 'ignored', 'failed', 'dead'))
);
--> statement-breakpoint
CREATE INDEX `stripe_events_redrive_at_idx` ON `stripe_events` (`redrive_at`) WHERE redrive_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX `stripe_events_status_received_at_idx` ON `stripe_events` (`status`,`received_at`);--> statement-breakpoint
CREATE INDEX `stripe_events_type_created_idx` ON `stripe_events` (`type`,`created`);