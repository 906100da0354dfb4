import { createApp } from "./app";
import { recoverMissedEvents } from "./cron/recover";
import { redriveDueEvents } from "./cron/redrive";
import type { Handlers } from "./handlers/registry";
import { errorName, log } from "./log";
import { consumeEvents } from "./queue/consumer";
import { consumeDeadLetters } from "./queue/dead-letter";

export interface WorkerOptions {
  handlers: Handlers;
  /** Current time in milliseconds; defaults to `Date.now`. */
  now?: () => number;
}

/**
 * Builds the Worker's handlers: HTTP (`fetch`), the events queue and its dead-letter queue (`queue`),
 * and the every-minute cron (`scheduled`): the re-drive, and the recovery of events Stripe never
 * delivered (every 10 minutes, only with STRIPE_SECRET_KEY). A queue whose name ends in `-dlq` is treated as the
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
      ctx.waitUntil(recoverMissedEvents(env, options.handlers, now()).catch((err: unknown) => log("error", "recovery_failed", { error: errorName(err) })));
    },
  } satisfies ExportedHandler<Env, unknown>;
}
