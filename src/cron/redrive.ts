import { createDb } from "../db/client";
import { findDueForRedrive } from "../db/events";
import { enqueueEvents } from "../queue/enqueue";
import { errorName, log } from "../log";

/** Upper bound per run, so one cron invocation stays short even after a long queue outage. */
export const REDRIVE_BATCH_LIMIT = 500;

/**
 * Re-enqueues every event whose `redrive_at` has passed: enqueues that failed after the 2xx,
 * processing leases that expired (a consumer died), retries the queue never delivered. This is what
 * makes acknowledging Stripe before the enqueue safe. Returns how many events were re-enqueued.
 *
 * @example
 * async scheduled(controller, env, ctx) { ctx.waitUntil(redriveDueEvents(env, Date.now())); }
 */
export async function redriveDueEvents(env: Env, nowMs: number): Promise<number> {
  const db = createDb(env.DB);
  try {
    const ids = await findDueForRedrive(db, nowMs, REDRIVE_BATCH_LIMIT);
    if (ids.length > 0) await enqueueEvents(env.EVENTS_QUEUE, db, ids, nowMs);
    log(ids.length > 0 ? "warn" : "info", "redrive", { count: ids.length, more: ids.length === REDRIVE_BATCH_LIMIT });
    return ids.length;
  } catch (err) {
    log("error", "redrive_failed", { error: errorName(err) });
    return 0;
  }
}
