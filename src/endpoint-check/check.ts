import Stripe from "stripe";
import { type Config, problemWith } from "../config";
import { isThinOnly, readJobState, writeJobState } from "../db/job-state";
import type { Deps } from "../deps";
import type { Handlers } from "../handlers/registry";
import { errorName, log } from "../log";
import { stripeStatus } from "../stripe/api";
import { type EndpointReport, endpointReport, type ListedEndpoint } from "./report";

/** The job_state key of the last drift check. */
export const ENDPOINT_CHECK_STATE = "endpoint_check";
/** The check runs once a day: an endpoint's settings change rarely, and each check is an API call. */
export const ENDPOINT_CHECK_INTERVAL_MS = 24 * 60 * 60_000;
/** After a failed check (API down, key refused), the next attempt comes sooner, not every minute. */
export const ENDPOINT_CHECK_RETRY_MS = 60 * 60_000;

/** What job_state keeps: the report, when the next check is due, and what it compared against. */
export interface EndpointCheckState {
  report: EndpointReport;
  nextCheckAt: number;
  /** The handled types and WEBHOOK_URL the report was made for: a deploy that changes either is checked at once. */
  fingerprint: string;
}

/** Why the check did not run, or whether it succeeded. */
export type EndpointCheckOutcome = "checked" | "failed" | "not_due" | "no_api_key";

/**
 * The daily drift check from the cron: runs `checkEndpoint` when the last check is a day old (an hour
 * after a failure), or at once when the handled types or WEBHOOK_URL changed since. Needs
 * STRIPE_SECRET_KEY. Never throws.
 *
 * @example
 * await checkEndpointIfDue(deps);
 */
export async function checkEndpointIfDue(deps: Deps): Promise<EndpointCheckOutcome> {
  const { stripe } = deps;
  if (!stripe) return "no_api_key";
  try {
    const saved = await readJobState<EndpointCheckState>(deps.db, ENDPOINT_CHECK_STATE);
    if (saved && saved.nextCheckAt > deps.now() && saved.fingerprint === fingerprint(deps.config, deps.handlers)) return "not_due";
    return (await checkEndpoint(deps, stripe)).ok ? "checked" : "failed";
  } catch (err) {
    log("error", "endpoint_check_failed", { error: errorName(err) });
    return "failed";
  }
}

/**
 * Compares this Worker's webhook endpoint(s) with the handled event types now (one list request),
 * saves the report for /health and the console, and logs it: `endpoint_drift` (warn) when something
 * would lose events, else `endpoint_check` (info). A failed API call is saved as a report whose
 * warning names the error's class and HTTP status (never its message), and `ok` is false.
 *
 * @example
 * const { report } = await checkEndpoint(deps, requireStripeApi(deps, "The endpoint check lists endpoints"));
 */
export async function checkEndpoint(
  deps: Deps,
  stripe: Stripe,
): Promise<{ ok: boolean; report: EndpointReport; error?: { name: string; status: number | null } }> {
  const { db, config, handlers } = deps;
  const nowMs = deps.now();
  let report: EndpointReport;
  let error: { name: string; status: number | null } | undefined;
  try {
    // An account has at most 16 webhook endpoints: one page of 100 holds them all.
    const page = await stripe.webhookEndpoints.list({ limit: 100 });
    report = endpointReport(
      page.data as ListedEndpoint[],
      { eventTypes: handlers.types(), apiVersion: Stripe.API_VERSION, webhookUrl: config.webhookUrl, thinOnly: await isThinOnly(db) },
      nowMs,
    );
    const refusedUrl = problemWith(config, "WEBHOOK_URL");
    if (refusedUrl) report.warnings.unshift(`${refusedUrl.message} It was ignored for this check.`);
  } catch (err) {
    error = { name: errorName(err), status: stripeStatus(err) };
    const answered =
      error.status === null ? `could not reach the Stripe API (${error.name})` : `the Stripe API answered ${error.status} (${error.name})`;
    const hint =
      error.status === 401 || error.status === 403
        ? " STRIPE_SECRET_KEY needs read access to Webhook Endpoints."
        : " It is tried again within the hour.";
    report = {
      checked_at: new Date(nowMs).toISOString(),
      found_by: null,
      endpoints: [],
      warnings: [`The endpoint drift check failed: ${answered}.${hint}`],
      info: [],
    };
  }
  const state: EndpointCheckState = {
    report,
    nextCheckAt: nowMs + (error ? ENDPOINT_CHECK_RETRY_MS : ENDPOINT_CHECK_INTERVAL_MS),
    fingerprint: fingerprint(config, handlers),
  };
  await writeJobState(db, ENDPOINT_CHECK_STATE, state, nowMs);
  log(report.warnings.length > 0 ? "warn" : "info", report.warnings.length > 0 ? "endpoint_drift" : "endpoint_check", {
    endpoints: report.endpoints.map((e) => e.id),
    found_by: report.found_by,
    warnings: report.warnings,
    info: report.info,
  });
  return error ? { ok: false, report, error } : { ok: true, report };
}

function fingerprint(config: Config, handlers: Handlers): string {
  return JSON.stringify({
    types: [...handlers.types()].sort(),
    webhookUrl: problemWith(config, "WEBHOOK_URL") ? "invalid" : (config.webhookUrl ?? ""),
  });
}
