import type Stripe from "stripe";
import type { AppliedBy } from "../billing/rows";
import { fetchedAt } from "../billing/sources";
import type { Database } from "../db/client";
import type { Deps } from "../deps";
import { errorName, log } from "../log";
import { stripeStatus } from "../stripe/api";
import { clientFor, connectedAccounts } from "../stripe/connected-accounts";
import { BACKFILL_TYPES, type BackfillType, type Page, readPage } from "./objects";
import {
  acquireBackfillLease,
  type BackfillState,
  freshTypes,
  readBackfill,
  releaseBackfillLease,
  saveBackfillStatement,
  startOrResumeBackfill,
} from "./state";

/**
 * What one invocation may do. Ten pages of 100 objects take ten list requests (subrequests) and at
 * most about 160 D1 statements (multi-row upserts of 7–12 rows each, plus the state with each page),
 * well inside the 1,000 queries per invocation that the cron's other jobs share; an account with
 * nothing to import finishes in one invocation (one empty page per type). No new page starts after
 * the time budget, which keeps a run inside the 30 s a scheduled event's `waitUntil` may take, even
 * when the API is slow.
 */
export const BACKFILL_LIMITS = { maxPages: 10, pageSize: 100, timeBudgetMs: 20_000 };
export type BackfillLimits = Partial<typeof BACKFILL_LIMITS>;

/**
 * Why a run stopped: `done` (every type imported), `budget` (its pages or time are used up: the next
 * tick continues), `rate_limited` (the API answered 429) or `api_unavailable` (5xx, network) — both
 * resume at the next tick —, `paused` (the API refused in a way a retry cannot fix; waits for a POST),
 * `storage_error` (D1 failed; the page is read again next time), or why nothing ran: no key, never
 * started or not running (cron only), or `busy` (another invocation holds the lease).
 */
export type BackfillOutcome =
  | "done"
  | "budget"
  | "rate_limited"
  | "api_unavailable"
  | "paused"
  | "storage_error"
  | "no_api_key"
  | "not_running"
  | "busy";

export interface BackfillRunReport {
  outcome: BackfillOutcome;
  /** Pages imported by this run. */
  pages: number;
  /** Objects imported by this run. */
  imported: number;
  /** The run's state after this invocation (null when none was ever started). */
  state: BackfillState | null;
}

/**
 * Imports the next pages of the backfill: the current state of every customer, subscription, Checkout
 * Session, invoice, PaymentIntent and charge, from Stripe's list APIs into the billing tables, with the
 * same row mapping and ordering rule as the event handlers. Each page is stamped as fetched (the
 * clock read before the request, minus the margin: `fetchedAt`), exactly as an object fetched for a
 * thin event, so a webhook for the same object converges on the newest state in either order. Only the
 * projection runs: no handler and no fulfilment hook (a backfill is not a purchase).
 *
 * Bounded by `limits` (BACKFILL_LIMITS), resumable (a cursor per type in job_state, saved in one
 * transaction with each page's rows) and exclusive (a lease). With `start`, a finished or paused run
 * is started or resumed first (POST /admin/api/backfill); without, only a running one continues
 * (the cron). An API error ends the invocation at once, never a loop. Needs the invocation's Stripe
 * client (STRIPE_SECRET_KEY). Never throws.
 *
 * The report's `state` is null when no key is set (nothing was read).
 *
 * @example
 * await runBackfill(deps, { start: false });
 */
export async function runBackfill(deps: Deps, options: { start: boolean; limits?: BackfillLimits }): Promise<BackfillRunReport> {
  const limits = { ...BACKFILL_LIMITS, ...options.limits };
  const report: BackfillRunReport = { outcome: "no_api_key", pages: 0, imported: 0, state: null };
  const { stripe, db, now } = deps;
  if (!stripe) return report;
  let lease: string | null = null;
  try {
    // The cron asks every minute: without a running backfill it only reads, and writes no lease.
    if (!options.start) {
      const saved = await readBackfill(db);
      if (saved?.status !== "running") return { ...report, outcome: "not_running", state: saved };
    }
    lease = await acquireBackfillLease(db, now());
    if (!lease) return { ...report, outcome: "busy", state: await readBackfill(db) };
    report.state = options.start ? await startOrResumeBackfill(db, now()) : await readBackfill(db);
    if (report.state?.status !== "running") return { ...report, outcome: "not_running" };
    await importPages(deps, stripe, limits, report);
  } catch (err) {
    report.outcome = "storage_error";
    log("error", "backfill_failed", { error: errorName(err), pages: report.pages, imported: report.imported });
  } finally {
    if (lease) await releaseBackfillLease(db, lease).catch(() => undefined); // it runs out by itself
  }
  logRun(report);
  return report;
}

/** The pages themselves: updates `report` as each page commits, and classifies an API failure. */
async function importPages(deps: Deps, stripe: Stripe, limits: typeof BACKFILL_LIMITS, report: BackfillRunReport): Promise<void> {
  const { db, now } = deps;
  let state = report.state!;
  const started = now();
  report.outcome = "budget";
  for (;;) {
    const type = BACKFILL_TYPES.find((t) => !state.types[t].done);
    if (type === undefined) {
      // This account is done: on to the next connected account, or the run is.
      const next = await nextAccount(deps, stripe, state.account ?? "");
      state = moveTo(state, next, now());
      await saveBackfillStatement(db, state, now());
      report.state = state;
      if (next === null) break;
      continue;
    }
    if (report.pages >= limits.maxPages || now() - started >= limits.timeBudgetMs) return;
    const fetchedMs = now();
    const by: AppliedBy = {
      eventId: `backfill:${state.runId}`,
      eventCreated: fetchedAt(fetchedMs),
      nowMs: fetchedMs,
      account: state.account ?? "",
      appUserKey: deps.config.appUserMetadataKey,
    };
    let page: Page;
    try {
      const client = clientFor(stripe, by.account);
      page = await readPage(db, client, type, state.types[type].startingAfter, by, limits.pageSize, deps.config.stripeMode === "live");
    } catch (err) {
      report.outcome = await recordApiError(db, state, err, now(), report);
      return;
    }
    state = await commitPage(db, state, type, page, now());
    report.state = state;
    report.pages += page.requests;
    report.imported += page.imported;
  }
  report.outcome = "done";
}

/**
 * Writes one page's rows and the advanced cursor in one transaction (a crash in between re-reads the
 * page, which writes the same rows again). Returns the new state.
 */
async function commitPage(db: Database, state: BackfillState, type: BackfillType, page: Page, nowMs: number): Promise<BackfillState> {
  const progress = state.types[type];
  const next: BackfillState = {
    ...state,
    types: { ...state.types, [type]: { imported: progress.imported + page.imported, startingAfter: page.startingAfter, done: page.done } },
    lastError: null,
  };
  await db.batch([saveBackfillStatement(db, next, nowMs), ...page.statements]);
  return next;
}

/**
 * The account after `account` (`''`, the platform, comes first): the next of STRIPE_CONNECT_ACCOUNTS,
 * or null after the last. Connected accounts are walked only with STRIPE_CONNECT_BILLING=true: without
 * it their events never reach the billing tables, which would keep their rows as imported for ever.
 */
async function nextAccount(deps: Deps, stripe: Stripe, account: string): Promise<string | null> {
  if (!deps.config.connectBilling) return null;
  const accounts = await connectedAccounts(deps.config.connectAccounts, stripe, deps.db, deps.now());
  if (account === "") return accounts[0] ?? null;
  const at = accounts.indexOf(account);
  return at === -1 ? null : (accounts[at + 1] ?? null);
}

/** The state that starts `next` at the first page of every type, totals kept; or, for null, the finished run. */
function moveTo(state: BackfillState, next: string | null, nowMs: number): BackfillState {
  const accountsDone = (state.account ? 1 : 0) + (state.accountsDone ?? 0);
  if (next === null) return { ...state, status: "done", finishedAt: nowMs, lastError: null, accountsDone };
  const earlier = Object.fromEntries(BACKFILL_TYPES.map((t) => [t, (state.earlier?.[t] ?? 0) + state.types[t].imported]));
  return {
    ...state,
    account: next,
    accountsDone,
    earlier: earlier as Record<BackfillType, number>,
    types: freshTypes(),
  };
}

/**
 * Saves what the API answered. 429, 5xx and network errors leave the run `running` (the next tick
 * retries; Stripe's rate limit is per second, so a minute is plenty); any other refusal (401, 403,
 * 400, …) cannot succeed on retry and pauses it until an operator resumes it.
 */
async function recordApiError(
  db: Database,
  state: BackfillState,
  err: unknown,
  nowMs: number,
  report: BackfillRunReport,
): Promise<BackfillOutcome> {
  const status = stripeStatus(err);
  const outcome: BackfillOutcome = status === 429 ? "rate_limited" : status === null || status >= 500 ? "api_unavailable" : "paused";
  const next: BackfillState = {
    ...state,
    status: outcome === "paused" ? "paused" : "running",
    lastError: { at: nowMs, error: errorName(err), status },
  };
  await saveBackfillStatement(db, next, nowMs);
  report.state = next;
  return outcome;
}

function logRun(report: BackfillRunReport): void {
  const level = report.outcome === "done" || report.outcome === "budget" ? "info" : report.outcome === "storage_error" ? "error" : "warn";
  const state = report.state;
  log(level, "backfill", {
    run_id: state?.runId ?? null,
    outcome: report.outcome,
    pages: report.pages,
    imported: report.imported,
    ...(state?.lastError && report.outcome !== "done" && report.outcome !== "budget"
      ? { error: state.lastError.error, status: state.lastError.status }
      : {}),
    types: state
      ? Object.fromEntries(BACKFILL_TYPES.map((t) => [t, `${state.types[t].imported}${state.types[t].done ? " done" : ""}`]))
      : null,
  });
}
