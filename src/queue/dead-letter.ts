import { createDb } from "../db/client";
import { markDead } from "../db/ledger/consumer";
import { errorName, log } from "../log";
import { retryDelaySeconds } from "./backoff";
import { type EventMessage, isEventMessage } from "./message";

/**
 * Consumes the dead-letter queue: marks each event `dead` at `nowMs` (one statement per 90 ids) so
 * operators see it, the alerts report it, and it can be replayed. Nothing is deleted; the payload and
 * last error stay in the ledger.
 */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, env: Env, nowMs: number): Promise<void> {
  const messages = batch.messages.filter((message): message is Message<EventMessage> => {
    if (isEventMessage(message.body)) return true;
    log("error", "queue_message_malformed", { message_id: message.id, queue: batch.queue });
    message.ack();
    return false;
  });
  if (messages.length === 0) return;
  try {
    await markDead(
      createDb(env.DB),
      messages.map((m) => m.body.id),
      nowMs,
    );
  } catch (err) {
    for (const message of messages) {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      log("error", "event_storage_error", { event_id: message.body.id, error: errorName(err) });
    }
    return;
  }
  for (const message of messages) {
    message.ack();
    log("error", "event_dead", { event_id: message.body.id });
  }
}
