import { createApp } from "./app";
import { redriveDueEvents } from "./cron/redrive";
import type { Handlers } from "./handlers/registry";
import { consumeEvents } from "./queue/consumer";
import { consumeDeadLetters } from "./queue/dead-letter";

export interface WorkerOptions {
  handlers: Handlers;
  /** Current time in milliseconds; defaults to `Date.now`. */
  now?: () => number;
}

/**
 * Builds the Worker's handlers: HTTP (`fetch`), the events queue and its dead-letter queue (`queue`),
 * and the re-drive cron (`scheduled`). A queue whose name ends in `-dlq` is treated as the
 * dead-letter queue, so renamed queues per environment keep working.
 *
 * @example
 * export default createWorker({ handlers: new Handlers().on("invoice.paid", onInvoicePaid) });
 */
export function createWorker(options: WorkerOptions) {
  const now = options.now ?? Date.now;
  const app = createApp({ now });
  return {
    fetch: app.fetch,
    async queue(batch, env, _ctx) {
      if (batch.queue.endsWith("-dlq")) await consumeDeadLetters(batch, env);
      else await consumeEvents(batch, env, options.handlers, now);
    },
    async scheduled(_controller, env, ctx) {
      ctx.waitUntil(redriveDueEvents(env, now()));
    },
  } satisfies ExportedHandler<Env, unknown>;
}
