import { markDead } from "../db/ledger/consumer";
import type { Deps } from "../deps";
import { errorName, log } from "../log";
import { retryDelaySeconds } from "./backoff";
import { readableMessages } from "./message";

/**
 * Consumes the dead-letter queue: marks each event `dead` (one statement per 90 ids) so operators see
 * it, the alerts report it, and it can be replayed. Nothing is deleted; the payload and last error
 * stay in the ledger.
 *
 * @example
 * if (isDeadLetterQueue(batch.queue)) await consumeDeadLetters(batch, deps);
 */
export async function consumeDeadLetters(batch: MessageBatch<unknown>, deps: Deps): Promise<void> {
  const messages = readableMessages(batch);
  if (messages.length === 0) return;
  try {
    await markDead(
      deps.db,
      messages.map((m) => m.body.id),
      deps.now(),
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

/**
 * Whether a batch comes from the dead-letter queue: its name ends in `-dlq`, so queues renamed per
 * environment keep working.
 */
export function isDeadLetterQueue(queue: string): boolean {
  return queue.endsWith("-dlq");
}
