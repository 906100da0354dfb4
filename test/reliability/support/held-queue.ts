import { env } from "cloudflare:workers";

/** The longest delay Cloudflare Queues accepts for a message (12 hours). */
const HOLD_SECONDS = 43_200;

/**
 * The real queue binding, with every message sent delayed past the end of the test run and its
 * event id recorded. The Worker's own consumer runs the deployed handlers, so it must not pick
 * these messages up: the test hands them, through `consumeBatch`, to a Worker built with the
 * handlers that count side effects.
 */
export function heldQueue(real: Queue = env.EVENTS_QUEUE): { queue: Queue; sent: string[] } {
  const sent: string[] = [];
  const queue = new Proxy(real, {
    get(target, prop) {
      if (prop === "send") {
        return (body: { id: string }, options?: QueueSendOptions) => {
          sent.push(body.id);
          return target.send(body, { ...options, delaySeconds: HOLD_SECONDS });
        };
      }
      if (prop === "sendBatch") {
        return (messages: Iterable<MessageSendRequest<{ id: string }>>, options?: QueueSendBatchOptions) => {
          const list = [...messages].map((m) => ({ ...m, delaySeconds: HOLD_SECONDS }));
          for (const m of list) sent.push(m.body.id);
          return target.sendBatch(list, { ...options, delaySeconds: HOLD_SECONDS });
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { queue, sent };
}
