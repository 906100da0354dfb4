import { asc, desc } from "drizzle-orm";
import type Stripe from "stripe";
import { readConfig } from "../config";
import { createDb, type Database } from "../db/client";
import { isThinOnly, readJobState, writeJobState } from "../db/job-state";
import { recordEvent } from "../db/ledger/record";
import { stripeEvents } from "../db/schema";
import type { Handlers } from "../handlers/registry";
import { errorName, log } from "../log";
import { dispatch } from "../queue/enqueue";
import { createStripeApi } from "../stripe/api";
import { snapshotEntry } from "../stripe/event-shape";

const STATE_KEY = "event_recovery";
/** Events can become listable a little after their `created` time; each pass re-reads this much. */
const OVERLAP_SECONDS = 10 * 60;
/** How far back the Events APIs go, v1 and v2. */
const RETENTION_SECONDS = 30 * 86400;
/** The cron fires every minute; the recovery lists events at most this often. */
export const RECOVERY_INTERVAL_MS = 10 * 60_000;

/** What one run of a recovery (snapshot or thin) may list: `maxPages` pages of `pageSize` events. */
export interface RecoveryLimits {
  maxPages?: number;
  pageSize?: number;
}
export const RECOVERY_LIMITS = { maxPages: 10, pageSize: 100 } satisfies RecoveryLimits;

/**
 * The `created` window (Unix seconds, (from, to]) of a new listing pass of either recovery: from a
 * little before the watermark, never further back than the Events APIs go, up to now.
 *
 * @example
 * state.pass ??= { ...passWindow(state.watermark, nowSeconds), startingAfter: null };
 */
export function passWindow(watermark: number, nowSeconds: number): { from: number; to: number } {
  return { from: Math.max(watermark - OVERLAP_SECONDS, nowSeconds - RETENTION_SECONDS), to: nowSeconds };
}

/**
 * Progress of the recovery, saved between runs. `floor`: events created before it predate this
 * receiver and are never recovered. `watermark`: every event created before it has been checked.
 * `pass`: a listing in progress (created in (from, to]), resumed at `startingAfter`.
 * `undelivered`: the cursor of the listing of events Stripe could not deliver.
 */
interface RecoveryState {
  floor: number;
  watermark: number;
  lastRunAt: number;
  pass: { from: number; to: number; startingAfter: string | null } | null;
  undelivered: { startingAfter: string | null } | null;
}

export interface RecoveryReport {
  /**
   * Why nothing was listed: no key; not due yet; no handler for the format; or the format is not in
   * use (thin: never delivered here; snapshot: only thin events were ever delivered here).
   */
  skipped?: "no_api_key" | "not_due" | "no_handlers" | "format_not_in_use";
  pages: number;
  listed: number;
  recovered: number;
  passComplete: boolean;
}

/**
 * Finds events Stripe never delivered and feeds them through the same ledger path as a delivery
 * (deduplicated by event id, so running it any time is safe): every event created since the last
 * completed pass, plus those Stripe marks `delivery_success=false`. A run reads at most `maxPages`
 * pages of `pageSize` events (default 10 of 100) and saves where it stopped; the next run resumes there. Needs STRIPE_SECRET_KEY.
 * Only event types that have a handler are recorded. An install that has only ever processed thin
 * events (an event destination with thin payloads, no webhook endpoint) skips it: every event listed
 * here would be a snapshot twin of one already delivered thin (src/cron/recover-thin.ts covers those).
 *
 * @example
 * await recoverMissedEvents(env, handlers, Date.now());
 */
export async function recoverMissedEvents(
  env: Env,
  handlers: Handlers,
  nowMs: number,
  limits: RecoveryLimits = {},
): Promise<RecoveryReport> {
  const { maxPages = RECOVERY_LIMITS.maxPages, pageSize = RECOVERY_LIMITS.pageSize } = limits;
  const report: RecoveryReport = { pages: 0, listed: 0, recovered: 0, passComplete: false };
  const stripe = createStripeApi(readConfig(env).stripeApi);
  if (!stripe) return { ...report, skipped: "no_api_key" };

  const db = createDb(env.DB);
  const nowSeconds = Math.floor(nowMs / 1000);
  const saved = await readJobState<RecoveryState>(db, STATE_KEY);
  if (saved && !saved.pass && nowMs - saved.lastRunAt < RECOVERY_INTERVAL_MS) return { ...report, skipped: "not_due" };
  if (await isThinOnly(db)) return { ...report, skipped: "format_not_in_use" };
  const state = saved ?? (await initialState(db, nowSeconds));
  state.lastRunAt = nowMs;
  const wanted = new Set(handlers.types());
  const ingest = async (events: Stripe.Event[]) => {
    report.pages++;
    report.listed += events.length;
    const fresh: string[] = [];
    for (const event of events) {
      if (wanted.has(event.type) && event.created >= state.floor && (await recordRecovered(db, event, nowMs))) fresh.push(event.id);
    }
    if (fresh.length > 0) await dispatch(env.EVENTS_QUEUE, db, fresh, nowMs);
    report.recovered += fresh.length;
  };

  try {
    // Every event created since the watermark, newest first, in resumable pages.
    state.pass ??= { ...passWindow(state.watermark, nowSeconds), startingAfter: null };
    while (state.pass && report.pages < maxPages) {
      const page = await stripe.events.list({
        created: { gt: state.pass.from, lte: state.pass.to },
        limit: pageSize,
        ...(state.pass.startingAfter ? { starting_after: state.pass.startingAfter } : {}),
      });
      await ingest(page.data);
      if (page.has_more && page.data.length > 0) state.pass.startingAfter = page.data[page.data.length - 1]!.id;
      else {
        state.watermark = state.pass.to;
        state.pass = null;
        report.passComplete = true;
      }
    }
    // Events Stripe tried and failed to deliver, which may predate the watermark.
    state.undelivered ??= { startingAfter: null };
    while (state.undelivered && report.pages < maxPages) {
      const page = await stripe.events.list({
        delivery_success: false,
        limit: pageSize,
        ...(state.undelivered.startingAfter ? { starting_after: state.undelivered.startingAfter } : {}),
      });
      await ingest(page.data);
      state.undelivered = page.has_more && page.data.length > 0 ? { startingAfter: page.data[page.data.length - 1]!.id } : null;
    }
  } catch (err) {
    log("error", "recovery_failed", { format: "snapshot", error: errorName(err), pages: report.pages, recovered: report.recovered });
  } finally {
    await writeJobState(db, STATE_KEY, state, nowMs);
  }
  log(report.recovered > 0 ? "warn" : "info", "recovery", { format: "snapshot", ...report });
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

function recordRecovered(db: Database, event: Stripe.Event, nowMs: number): Promise<boolean> {
  return recordEvent(db, snapshotEntry(event), { receivedAt: nowMs, payload: JSON.stringify(event), source: "recovery" });
}
