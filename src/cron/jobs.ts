import { sendAlerts } from "../alerts/send";
import { runBackfill } from "../backfill/run";
import type { Deps } from "../deps";
import { checkEndpointIfDue } from "../endpoint-check/check";
import { errorName, log } from "../log";
import { refreshLedgerHours } from "../maintenance/ledger-hours";
import { redriveDueEvents } from "../maintenance/redrive";
import { pruneLedger } from "../maintenance/retention";
import { recoverMissedEvents } from "../recovery/snapshot";
import { recoverMissedThinEvents } from "../recovery/thin";

/** One job of the every-minute cron: what it is called in the logs, and what it runs. */
export interface CronJob {
  name: string;
  run: (deps: Deps) => Promise<unknown>;
}

/**
 * The schedule (wrangler.toml fires the cron every minute). Each job decides for itself whether it
 * is due (the recoveries every 10 minutes, the drift check daily) and what it needs (the API jobs
 * skip without STRIPE_SECRET_KEY; the retention stops on a refused setting, never the re-drive).
 */
export const CRON_JOBS: readonly CronJob[] = [
  // Re-sends events whose send was lost or whose consumer stopped: what makes the early 2xx safe.
  { name: "redrive", run: redriveDueEvents },
  // The charts' failed and dead totals (every other hourly figure is a counter the sweep and the moves keep).
  { name: "ledger_hours", run: refreshLedgerHours },
  // ALERT_WEBHOOK_URL's messages.
  { name: "alerts", run: sendAlerts },
  // Moves final events older than LEDGER_RETENTION_DAYS to the R2 archive (ARCHIVE bound), or deletes them.
  { name: "retention", run: pruneLedger },
  // Events Stripe never delivered, snapshot and thin (with STRIPE_SECRET_KEY).
  { name: "recovery", run: (deps) => recoverMissedEvents(deps) },
  { name: "thin_recovery", run: (deps) => recoverMissedThinEvents(deps) },
  // The daily endpoint drift check (with STRIPE_SECRET_KEY).
  { name: "endpoint_check", run: checkEndpointIfDue },
  // The next pages of a backfill someone started (never starts one).
  { name: "backfill", run: (deps) => runBackfill(deps, { start: false }) },
];

/**
 * Starts every job at once, each in `waitUntil` and on its own: one that fails is logged
 * (`cron_job_failed`, its name and error class) and never stops another.
 *
 * @example
 * async scheduled(controller, env, ctx) { runCronJobs(CRON_JOBS, createDeps(env, options), ctx); }
 */
export function runCronJobs(jobs: readonly CronJob[], deps: Deps, ctx: Pick<ExecutionContext, "waitUntil">): void {
  for (const job of jobs) {
    ctx.waitUntil(job.run(deps).catch((err: unknown) => log("error", "cron_job_failed", { job: job.name, error: errorName(err) })));
  }
}
