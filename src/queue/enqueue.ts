import type { Database } from "../db/client";
import { markQueued } from "../db/events";
import type { EventMessage } from "./message";

/** Cloudflare Queues accepts at most 100 messages per sendBatch. */
const SEND_BATCH_LIMIT = 100;

/**
 * Sends event ids to the processing queue, then marks their rows `queued`. Throws if the send fails,
 * leaving the rows as they were for the cron to re-drive.
 *
 * @example
 * ctx.waitUntil(enqueueEvents(env.EVENTS_QUEUE, db, [event.id], Date.now()));
 */
export async function enqueueEvents(queue: Queue<EventMessage>, db: Database, ids: readonly string[], nowMs: number): Promise<void> {
  for (let i = 0; i < ids.length; i += SEND_BATCH_LIMIT) {
    const chunk = ids.slice(i, i + SEND_BATCH_LIMIT);
    if (chunk.length === 1) await queue.send({ id: chunk[0]! }, { contentType: "json" });
    else await queue.sendBatch(chunk.map((id) => ({ body: { id }, contentType: "json" as const })));
    await markQueued(db, chunk, nowMs);
  }
}
