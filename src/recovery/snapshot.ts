import { asc, desc } from "drizzle-orm";
import type Stripe from "stripe";
import type { Database } from "../db/client";
import { isThinOnly, readJobState, writeJobState } from "../db/job-state";
import { stripeEvents } from "../db/schema";
import { errorName, log } from "../log";
import { clientFor, connectedAccounts } from "../stripe/connected-accounts";
import { snapshotEntry } from "../stripe/event-shape";
import {
  advancePass,
  beginRecovery,
  endRecovery,
  ingest,
  passWindow,
  RECOVERY_LIMITS,
  type Recovery,
  type RecoveryLimits,
  type RecoveryProgress,
  type RecoveryReport,
} from "./pass";

const STATE_KEY = "event_recovery";
/** The job_state key of the connected account whose turn is next. */
const TURN_KEY = "event_recovery_turn";
/** Connected accounts looked at in one run (each costs a D1 read, and a list request when due). */
const CONNECT_ACCOUNTS_PER_RUN = 20;

/** The snapshot recovery's progress, and the cursor of its listing of events Stripe could not deliver. */
interface RecoveryState extends RecoveryProgress<{ startingAfter: string | null }> {
  undelivered: { startingAfter: string | null } | null;
}

/**
 * Finds events Stripe never delivered and feeds them through the same ledger path as a delivery
 * (deduplicated by event id, so running it any time is safe): every event created since the last
 * completed pass, plus those Stripe marks `delivery_success=false`. A run reads at most `maxPages`
 * pages of `pageSize` events (default 10 of 100) and saves where it stopped; the next run resumes
 * there. Needs STRIPE_SECRET_KEY. Only event types that have a handler are recorded. An install that
 * has only ever processed thin events (an event destination with thin payloads, no webhook endpoint)
 * skips it: every event listed here would be a snapshot twin of one already delivered thin
 * (src/recovery/thin.ts covers those). With STRIPE_CONNECT_ACCOUNTS, the connected accounts' events are
 * listed too, each account on its own progress, in turns while the run's pages last.
 *
 * @example
 * await recoverMissedEvents(deps);
 */
export const recoverMissedEvents: Recovery = async (deps, limits = {}) => {
  const platform = await recoverAccount(deps, "", limits);
  if (!deps.stripe || platform.skipped === "no_api_key" || platform.skipped === "format_not_in_use") return platform;
  const { maxPages } = { ...RECOVERY_LIMITS, ...limits };
  try {
    await forConnectedAccounts(deps, deps.stripe, maxPages - platform.pages, async (account, pages) => {
      const report = await recoverAccount(deps, account, { ...limits, maxPages: pages });
      addReport(platform, report);
      return report.pages;
    });
  } catch (err) {
    log("error", "recovery_failed", { format: "snapshot", error: errorName(err), connect: true });
  }
  return platform;
};

/**
 * Runs `recover` for the connected accounts (STRIPE_CONNECT_ACCOUNTS) in turn while `pages` last,
 * starting where the previous run stopped: at most CONNECT_ACCOUNTS_PER_RUN accounts a run, so each
 * account is looked at every `accounts / CONNECT_ACCOUNTS_PER_RUN` minutes (and listed when its own
 * RECOVERY_INTERVAL_MS is up).
 */
async function forConnectedAccounts(
  deps: Parameters<Recovery>[0],
  stripe: Stripe,
  pages: number,
  recover: (account: string, pages: number) => Promise<number>,
): Promise<void> {
  const accounts = await connectedAccounts(deps.config.connectAccounts, stripe, deps.db, deps.now());
  if (accounts.length === 0) return;
  const turn = (await readJobState<{ next: number }>(deps.db, TURN_KEY))?.next ?? 0;
  let left = pages;
  let looked = 0;
  while (looked < Math.min(accounts.length, CONNECT_ACCOUNTS_PER_RUN) && left > 0) {
    left -= await recover(accounts[(turn + looked) % accounts.length]!, left);
    looked++;
  }
  await writeJobState(deps.db, TURN_KEY, { next: (turn + looked) % accounts.length }, deps.now());
}

/** Adds what one account's run did to the whole run's report (which lists something, so is no longer skipped). */
function addReport(into: RecoveryReport, from: RecoveryReport): void {
  if (from.pages > 0) delete into.skipped;
  into.pages += from.pages;
  into.listed += from.listed;
  into.recovered += from.recovered;
}

/**
 * One account's recovery (`''`: the platform's own events; `acct_…`: a connected account's, listed on
 * its behalf and recorded with its `account`), with its own progress in job_state.
 */
async function recoverAccount(deps: Parameters<Recovery>[0], account: string, limits: RecoveryLimits): Promise<RecoveryReport> {
  const run = await beginRecovery<RecoveryState>(deps, account === "" ? STATE_KEY : `${STATE_KEY}:${account}`, limits);
  if ("skipped" in run) return run;
  const { report, nowMs } = run;
  const stripe = clientFor(run.stripe, account);
  const { maxPages, pageSize } = run.limits;
  if (account === "" && (await isThinOnly(deps.db))) return { ...report, skipped: "format_not_in_use" };
  const nowSeconds = Math.floor(nowMs / 1000);
  const state = run.saved ?? (await initialState(deps.db, nowSeconds));
  state.lastRunAt = nowMs;
  const wanted = new Set(deps.handlers.types());
  const ingestPage = (events: Stripe.Event[]) =>
    ingest(
      deps,
      report,
      events.length,
      events
        .filter((e) => wanted.has(e.type) && e.created >= state.floor)
        // Listed on a connected account's behalf, an event may not say whose it is: it is that account's.
        .map((e) => (account === "" || e.account ? e : { ...e, account }))
        .map((e) => ({ event: snapshotEntry(e), payload: JSON.stringify(e) })),
    );

  try {
    // Every event created since the watermark, newest first, in resumable pages.
    state.pass ??= { ...passWindow(state.watermark, nowSeconds), startingAfter: null };
    while (state.pass && report.pages < maxPages) {
      const page = await stripe.events.list({
        created: { gt: state.pass.from, lte: state.pass.to },
        limit: pageSize,
        ...(state.pass.startingAfter ? { starting_after: state.pass.startingAfter } : {}),
      });
      await ingestPage(page.data);
      advancePass(state, page.has_more && page.data.length > 0 ? { startingAfter: page.data.at(-1)!.id } : null, report);
    }
    // Events Stripe tried and failed to deliver, which may predate the watermark.
    state.undelivered ??= { startingAfter: null };
    while (state.undelivered && report.pages < maxPages) {
      const page = await stripe.events.list({
        delivery_success: false,
        limit: pageSize,
        ...(state.undelivered.startingAfter ? { starting_after: state.undelivered.startingAfter } : {}),
      });
      await ingestPage(page.data);
      state.undelivered = page.has_more && page.data.length > 0 ? { startingAfter: page.data[page.data.length - 1]!.id } : null;
    }
  } catch (err) {
    log("error", "recovery_failed", { format: "snapshot", error: errorName(err), pages: report.pages, recovered: report.recovered });
  }
  await endRecovery(deps, "snapshot", account === "" ? STATE_KEY : `${STATE_KEY}:${account}`, state, report);
  return report;
}

/**
 * Where the first run starts: from the newest event already recorded, recovering nothing older than
 * the oldest one; for an empty ledger, from now (a new install does not replay a month of history,
 * perhaps meant for another system, into its handlers).
 */
async function initialState(db: Database, nowSeconds: number): Promise<RecoveryState> {
  // The first and last arrivals (seq order, two index lookups), not a scan for min/max created.
  const edge = (order: typeof asc) =>
    db.select({ created: stripeEvents.created }).from(stripeEvents).orderBy(order(stripeEvents.seq)).limit(1);
  const [[oldest], [newest]] = await db.batch([edge(asc), edge(desc)]);
  return { floor: oldest?.created ?? nowSeconds, watermark: newest?.created ?? nowSeconds, lastRunAt: 0, pass: null, undelivered: null };
}
