-- A thin v1.* event's snapshot twin (issue 19): the id Stripe gives as `snapshot_event`, indexed only
-- where present, so that whichever twin is processed second is ignored.
ALTER TABLE `stripe_events` ADD `twin_of` text;--> statement-breakpoint
CREATE INDEX `stripe_events_twin_idx` ON `stripe_events` (`twin_of`) WHERE twin_of IS NOT NULL;
