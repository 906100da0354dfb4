import { type Config, deliveryProblem, problemWith } from "../config";
import type { Database } from "../db/client";
import { deathsSince, readAttention } from "../db/ledger/attention";
import { oldestUnprocessed } from "../db/ledger/stats";
import { ENDPOINT_CHECK_STATE, type EndpointCheckState } from "../endpoint-check/check";
import { secretCheck, sizeCheck, stripeApiCheck } from "../health/checks";

/** How old the oldest unprocessed event may get before an alert: well past the queue's first retries. */
export const UNPROCESSED_ALERT_MS = 30 * 60_000;

/** The conditions an alert is sent for, each at most once an hour. */
const ALERT_CONDITIONS = ["dead", "unprocessed", "secret_expiry", "database_size", "thin_parked", "endpoint_drift", "settings"] as const;
export type AlertCondition = (typeof ALERT_CONDITIONS)[number];

/** A condition that holds now, and the line the alert says about it. */
export interface Finding {
  condition: AlertCondition;
  text: string;
  /** For `dead`: the newest `dead_at` reported, where the next count of deaths starts. */
  deadThrough?: number;
}

/**
 * Checks the conditions that `due` allows (the others were reported within the hour, so their queries
 * are skipped) and returns those that hold. Each line carries counts, types, event ids, positions and
 * variable names only: never a payload, an error text from a handler, or a secret's value.
 *
 * @example
 * const findings = await findAlerts(deps.config, deps.db, Date.now(), (c) => true, 0);
 */
export async function findAlerts(
  config: Config,
  db: Database,
  nowMs: number,
  due: (c: AlertCondition) => boolean,
  deadSince: number,
): Promise<Finding[]> {
  const findings: Finding[] = [];

  if (due("dead")) {
    const deaths = await deathsSince(db, deadSince);
    if (deaths.total > 0) {
      const types = deaths.byType.map((t) => `${t.type} (${t.count})`).join(", ");
      findings.push({
        condition: "dead",
        text:
          `${deaths.total} event(s) went dead since the last alert (retries exhausted): ${types}. ` +
          "Fix the cause, then replay them (console: status dead → Replay; API: POST /admin/api/replay?status=dead).",
        deadThrough: deaths.newestDeadAt ?? nowMs,
      });
    }
  }
  if (due("unprocessed")) {
    const oldest = await oldestUnprocessed(db);
    if (oldest && nowMs - oldest.receivedAt > UNPROCESSED_ALERT_MS) {
      findings.push({
        condition: "unprocessed",
        text:
          `The oldest unprocessed event, ${oldest.id} (${oldest.type}, ${oldest.status}), ` +
          `arrived ${minutes(nowMs - oldest.receivedAt)} ago (alert threshold ${minutes(UNPROCESSED_ALERT_MS)}): ` +
          "the consumer is failing, stuck or behind. Check its last_error in the console and Workers Logs.",
      });
    }
  }
  if (due("secret_expiry")) {
    const warnings = secretCheck(config.webhookSecrets, nowMs).warnings ?? [];
    if (warnings.length > 0) findings.push({ condition: "secret_expiry", text: warnings.join(" ") });
  }
  // What /health reads in its one query; the endpoint drift is the daily check's saved report, so the
  // alert never calls Stripe itself.
  const readings =
    due("database_size") || due("thin_parked") || due("endpoint_drift") ? await readAttention(db, ENDPOINT_CHECK_STATE) : null;
  if (readings && due("database_size") && !problemWith(config, "D1_MAX_BYTES")) {
    const check = sizeCheck(readings.sizeBytes, config.d1MaxBytes);
    const said = check.ok ? check.warnings : [check.message!];
    if (said && said.length > 0) findings.push({ condition: "database_size", text: said.join(" ") });
  }
  if (readings && due("thin_parked")) {
    const warnings = stripeApiCheck(config.stripeApi.key !== null, readings.parkedThin).warnings ?? [];
    if (warnings.length > 0) findings.push({ condition: "thin_parked", text: warnings.join(" ") });
  }
  if (readings && due("endpoint_drift")) {
    const warnings = (readings.saved as EndpointCheckState | null)?.report.warnings ?? [];
    if (warnings.length > 0)
      findings.push({ condition: "endpoint_drift", text: `The webhook endpoint check warns: ${warnings.join(" ")}` });
  }
  if (due("settings")) {
    const problem = deliveryProblem(config);
    if (problem) findings.push({ condition: "settings", text: `/health fails: ${problem.code}: ${problem.message}` });
    // A refused ADMIN_TOKEN closes the console and its health page, so only an alert can say so.
    const admin = problemWith(config, "ADMIN_TOKEN");
    if (admin) findings.push({ condition: "settings", text: `The admin API and console are closed: ${admin.message}` });
  }
  return findings;
}

function minutes(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m >= 120 ? `${Math.round(m / 60)} h` : `${m} min`;
}
