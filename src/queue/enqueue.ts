import { markSendFailed } from "../db/ledger/upkeep";
import type { Deps } from "../deps";
import { errorName, log } from "../log";

/** Cloudflare Queues accepts at most 100 messages per sendBatch. */
const SEND_BATCH_LIMIT = 100;

/**
 * Sends event ids to the processing queue, delivered after `delaySeconds` (none by default). On
 * success nothing else is written: an event still unclaimed after the grace is found by the cron's
 * sweep. When a send fails, the rows are made due for the cron's next run (the only ledger write this
 * makes), so a lost send costs about a minute.
 * Never throws; returns whether every id was sent.
 *
 * @example
 * ctx.waitUntil(dispatch(deps, [event.id]));
 */
export async function dispatch(deps: Pick<Deps, "queue" | "db" | "now">, ids: readonly string[], delaySeconds = 0): Promise<boolean> {
  const options = delaySeconds > 0 ? { contentType: "json" as const, delaySeconds } : { contentType: "json" as const };
  const { queue, db } = deps;
  for (let i = 0; i < ids.length; i += SEND_BATCH_LIMIT) {
    const part = ids.slice(i, i + SEND_BATCH_LIMIT);
    try {
      if (part.length === 1) await queue.send({ id: part[0]! }, options);
      else await queue.sendBatch(part.map((id) => ({ body: { id }, ...options })));
    } catch (err) {
      const unsent = ids.slice(i);
      log("warn", "enqueue_failed", { count: unsent.length, event_id: unsent.length === 1 ? unsent[0] : undefined, error: errorName(err) });
      await markSendFailed(db, unsent, deps.now()).catch((markErr: unknown) => {
        // The sweep still finds these rows once their grace has passed.
        log("error", "enqueue_reschedule_failed", { count: unsent.length, error: errorName(markErr) });
      });
      return false;
    }
  }
  return true;
}
