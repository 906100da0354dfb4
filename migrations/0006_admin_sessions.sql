-- Console sessions that end on the server, and addresses locked out of the admin API (issue 18).
-- Hand-edited after drizzle-kit generate: both tables WITHOUT ROWID (drizzle cannot say so), keyed by
-- their text primary key alone, so a new row is one row written.
CREATE TABLE `admin_lockouts` (
	`client_key` text PRIMARY KEY NOT NULL,
	`until` integer NOT NULL
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `console_sessions` (
	`id` text PRIMARY KEY NOT NULL,
	`issued_at` integer NOT NULL,
	`last_seen_at` integer NOT NULL
) WITHOUT ROWID;
