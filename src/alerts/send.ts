import { problemWith } from "../config";
import { readJobState, writeJobState } from "../db/job-state";
import type { Deps } from "../deps";
import { errorName, log } from "../log";
import { type AlertCondition, type Finding, findAlerts } from "./conditions";

/** A condition is reported at most once per this long, however long it holds. */
export const ALERT_REPEAT_MS = 60 * 60_000;
/** The job_state key of the alerts: when each condition was last reported, and up to which `dead_at`. */
const ALERT_STATE = "alerts";
/** How long a receiver may take to answer before the alert is given up (it is not retried). */
const POST_TIMEOUT_MS = 10_000;

interface AlertState {
  /** Unix ms of the last report, by condition. */
  sent: Partial<Record<AlertCondition, number>>;
  /** Deaths with a `dead_at` after this were not reported yet. */
  deadSince: number;
}

/**
 * Posts one Slack-compatible message (`{ "text": … }`) to ALERT_WEBHOOK_URL listing the conditions
 * that hold and were not reported within the last hour: events that went dead since the last alert,
 * an unprocessed event older than 30 minutes, a webhook secret expiring within a day, and the other
 * `/health` warnings (database size, parked thin events, a setting `/health` fails on). Without the
 * variable it does nothing. The state is saved before the post, so a receiver that fails or hangs
 * is tried again an hour later, never in a loop; failures are logged without the URL. Returns the
 * conditions reported. Never throws.
 *
 * @example
 * await sendAlerts(deps);
 */
export async function sendAlerts(deps: Deps): Promise<AlertCondition[]> {
  const { config, db } = deps;
  const nowMs = deps.now();
  const refused = problemWith(config, "ALERT_WEBHOOK_URL");
  if (refused) {
    log("error", "alert_config_invalid", { code: refused.code });
    return [];
  }
  const url = config.alertWebhookUrl;
  if (url === null) return [];
  let findings: Finding[];
  try {
    const state = (await readJobState<AlertState>(db, ALERT_STATE)) ?? { sent: {}, deadSince: 0 };
    findings = await findAlerts(config, db, nowMs, (c) => nowMs - (state.sent[c] ?? 0) >= ALERT_REPEAT_MS, state.deadSince);
    if (findings.length === 0) return [];
    const sent = { ...state.sent };
    for (const f of findings) sent[f.condition] = nowMs;
    const deadSince = findings.find((f) => f.condition === "dead")?.deadThrough ?? state.deadSince;
    await writeJobState(db, ALERT_STATE, { sent, deadSince } satisfies AlertState, nowMs);
  } catch (err) {
    log("error", "alert_failed", { stage: "check", error: errorName(err) });
    return [];
  }
  const conditions = findings.map((f) => f.condition);
  const text = [`Stripe webhooks: ${findings.length} condition(s) need attention`, ...findings.map((f) => `• ${f.text}`)].join("\n");
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
      // A redirect is an answer, not an instruction: the alert (and the URL's own secret) goes
      // nowhere but ALERT_WEBHOOK_URL, and a 3xx is logged as a failure.
      redirect: "manual",
      signal: AbortSignal.timeout(POST_TIMEOUT_MS),
    });
    await response.body?.cancel();
    if (!response.ok) {
      log("error", "alert_failed", { stage: "post", status: response.status, conditions });
      return conditions;
    }
    log("warn", "alert_sent", { conditions });
  } catch (err) {
    log("error", "alert_failed", { stage: "post", error: errorName(err), conditions });
  }
  return conditions;
}
