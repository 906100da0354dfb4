import type { EventMessage } from "../ledger/event";
import { log } from "../log";

/** Whether a queue message body is an `EventMessage` (anything else is poison and is dropped). */
export function isEventMessage(body: unknown): body is EventMessage {
  return typeof body === "object" && body !== null && typeof (body as { id?: unknown }).id === "string";
}

/**
 * The batch's event messages. Any other message is logged and acked: retrying cannot make it
 * readable, and its ledger row (if any) is re-driven by the cron.
 *
 * @example
 * const messages = readableMessages(batch);
 */
export function readableMessages(batch: MessageBatch<unknown>): Message<EventMessage>[] {
  return batch.messages.filter((message): message is Message<EventMessage> => {
    if (isEventMessage(message.body)) return true;
    log("error", "queue_message_malformed", { message_id: message.id, queue: batch.queue });
    message.ack();
    return false;
  });
}
