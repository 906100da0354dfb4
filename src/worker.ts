import { createApp } from "./app";
import { runBackfill } from "./backfill/run";
import { readConfig, validConfig } from "./config";
import { sendAlerts } from "./cron/alerts";
import { checkEndpointIfDue } from "./cron/endpoint-check";
import { refreshLedgerHours } from "./cron/ledger-hours";
import { recoverMissedEvents } from "./cron/recover";
import { recoverMissedThinEvents } from "./cron/recover-thin";
import { redriveDueEvents } from "./cron/redrive";
import { pruneLedger } from "./cron/retention";
import { ApiError } from "./errors";
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
 * and the every-minute cron (`scheduled`): the re-drive, the charts' hourly aggregates, the alerts
 * (with ALERT_WEBHOOK_URL), the retention of final events, the
 * recovery of events Stripe never delivered, snapshot and thin (every 10 minutes, only with
 * STRIPE_SECRET_KEY, each only for a delivery format in use), and, with STRIPE_SECRET_KEY, the daily
 * endpoint drift check and the next pages of a backfill in progress. A queue
 * whose name ends in `-dlq` is treated as the dead-letter queue, so renamed queues per environment
 * keep working.
 *
 * @example
 * export default createWorker({ handlers: new Handlers().on("invoice.paid", onInvoicePaid) });
 */
export function createWorker(options: WorkerOptions) {
  const now = options.now ?? Date.now;
  const app = createApp({ now, handlers: options.handlers });
  return {
    fetch: app.fetch,
    async queue(batch, env, _ctx) {
      if (batch.queue.endsWith("-dlq")) await consumeDeadLetters(batch, env, now());
      else await consumeEvents(batch, env, options.handlers, now);
    },
    async scheduled(_controller, env, ctx) {
      const nowMs = now();
      ctx.waitUntil(redriveDueEvents(env, nowMs));
      ctx.waitUntil(refreshLedgerHours(env, nowMs));
      ctx.waitUntil(sendAlerts(env, nowMs));
      const config = validConfig(readConfig(env));
      // A bad setting stops the retention (it could delete too much), never the re-drive.
      if (config instanceof ApiError) log("error", "config_invalid", { code: config.code });
      else ctx.waitUntil(pruneLedger(env, config.settings, nowMs));
      ctx.waitUntil(
        recoverMissedEvents(env, options.handlers, nowMs).catch((err: unknown) =>
          log("error", "recovery_failed", { format: "snapshot", error: errorName(err) }),
        ),
      );
      ctx.waitUntil(recoverMissedThinEvents(env, options.handlers, nowMs));
      ctx.waitUntil(checkEndpointIfDue(env, options.handlers, nowMs));
      // Continues a backfill someone started (never starts one), a few pages per tick.
      ctx.waitUntil(runBackfill(env, now, { start: false }));
    },
  } satisfies ExportedHandler<Env, unknown>;
}
