import { asc, desc } from "drizzle-orm";
import type Stripe from "stripe";
import type { Database } from "../db/client";
import { isThinOnly } from "../db/job-state";
import { stripeEvents } from "../db/schema";
import { errorName, log } from "../log";
import { snapshotEntry } from "../stripe/event-shape";
import { advancePass, beginRecovery, endRecovery, ingest, passWindow, type Recovery, type RecoveryProgress } from "./pass";

const STATE_KEY = "event_recovery";

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
 * (src/recovery/thin.ts covers those).
 *
 * @example
 * await recoverMissedEvents(deps);
 */
export const recoverMissedEvents: Recovery = async (deps, limits = {}) => {
  const run = await beginRecovery<RecoveryState>(deps, STATE_KEY, limits);
  if ("skipped" in run) return run;
  const { stripe, report, nowMs } = run;
  const { maxPages, pageSize } = run.limits;
  if (await isThinOnly(deps.db)) return { ...report, skipped: "format_not_in_use" };
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
  await endRecovery(deps, "snapshot", STATE_KEY, state, report);
  return report;
};

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
