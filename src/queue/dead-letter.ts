import { createDb } from "../db/client";
import { markDead } from "../db/events";
import { errorName, log } from "../log";
import { retryDelaySeconds } from "./backoff";
import { isEventMessage } from "./message";

/**
 * Consumes the dead-letter queue: marks each event `dead` so operators see it and can replay it.
 * Nothing is deleted; the payload and last error stay in the ledger.
 */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const db = createDb(env.DB);
  await Promise.all(
    batch.messages.map(async (message) => {
      if (!isEventMessage(message.body)) {
        log("error", "queue_message_malformed", { message_id: message.id, queue: batch.queue });
        message.ack();
        return;
      }
      try {
        await markDead(db, message.body.id);
        message.ack();
        log("error", "event_dead", { event_id: message.body.id });
      } catch (err) {
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
        log("error", "event_storage_error", { event_id: message.body.id, error: errorName(err) });
      }
    }),
  );
}
