import { createApp } from "./app";
import { CRON_JOBS, runCronJobs } from "./cron/jobs";
import { createDeps } from "./deps";
import type { Handlers } from "./handlers/registry";
import { consumeEvents } from "./queue/consumer";
import { consumeDeadLetters, isDeadLetterQueue } from "./queue/dead-letter";

export interface WorkerOptions {
  handlers: Handlers;
  /** Current time in milliseconds; defaults to `Date.now`. */
  now?: () => number;
}

/**
 * Builds the Worker's handlers: HTTP (`fetch`), the events queue and its dead-letter queue (`queue`),
 * and the every-minute cron (`scheduled`, whose jobs are listed in src/cron/jobs.ts). Each invocation
 * gets one set of dependencies (src/deps.ts: configuration, D1, the Stripe client, the queue, the
 * clock, the handlers), built here and handed down.
 *
 * @example
 * export default createWorker({ handlers: new Handlers().on("invoice.paid", onInvoicePaid) });
 */
export function createWorker(options: WorkerOptions) {
  const depsFor = (env: Env) => createDeps(env, { handlers: options.handlers, now: options.now ?? Date.now });
  const app = createApp(depsFor);
  return {
    fetch: app.fetch,
    async queue(batch, env) {
      const deps = depsFor(env);
      if (isDeadLetterQueue(batch.queue)) await consumeDeadLetters(batch, deps);
      else await consumeEvents(batch, deps);
    },
    async scheduled(_controller, env, ctx) {
      runCronJobs(CRON_JOBS, depsFor(env), ctx);
    },
  } satisfies ExportedHandler<Env, unknown>;
}
