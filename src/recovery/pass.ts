import type Stripe from "stripe";
import { readJobState, writeJobState } from "../db/job-state";
import { recordEvent } from "../db/ledger/record";
import type { Deps } from "../deps";
import type { LedgerEvent } from "../ledger/event";
import { errorName, log } from "../log";
import { dispatch } from "../queue/enqueue";

// What the two recoveries (snapshot events through GET /v1/events, thin ones through
// GET /v2/core/events) share: how often and how much they list, where a pass starts, how a run
// begins and ends, and how a listed event enters the ledger.

/** Events can become listable a little after their `created` time; each pass re-reads this much. */
const OVERLAP_SECONDS = 10 * 60;
/** How far back the Events APIs go, v1 and v2. */
const RETENTION_SECONDS = 30 * 86400;
/** The cron fires every minute; a recovery lists events at most this often. */
export const RECOVERY_INTERVAL_MS = 10 * 60_000;

/** What one run of a recovery may list: `maxPages` pages of `pageSize` events. */
export interface RecoveryLimits {
  maxPages?: number;
  pageSize?: number;
}
export const RECOVERY_LIMITS = { maxPages: 10, pageSize: 100 } satisfies RecoveryLimits;

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

/** A recovery job: lists what Stripe did not deliver, at most `limits` in one run, and says what it did. */
export type Recovery = (deps: Deps, limits?: RecoveryLimits) => Promise<RecoveryReport>;

/**
 * A recovery's progress, saved between runs. `floor`: events created before it are never recovered
 * (they predate this receiver, or thin delivery here). `watermark`: every event created before it has
 * been checked. `pass`: a listing in progress, of events created in (from, to], resumed at `Cursor`
 * (the snapshot list's `starting_after`, the v2 list's next page URL).
 */
export interface RecoveryProgress<Cursor> {
  floor: number;
  watermark: number;
  lastRunAt: number;
  pass: ({ from: number; to: number } & Cursor) | null;
}

/** What `beginRecovery` reads of a saved progress. */
type SavedRecovery = Pick<RecoveryProgress<unknown>, "lastRunAt" | "pass">;

/** A recovery run that is due: its client, its limits, its saved progress (null on the first run) and its report so far. */
export interface RecoveryRun<S extends SavedRecovery> {
  stripe: Stripe;
  nowMs: number;
  limits: Required<RecoveryLimits>;
  saved: S | null;
  report: RecoveryReport;
}

/**
 * How every recovery run begins: skipped without an API client, or when no pass is in progress and
 * the last run is under RECOVERY_INTERVAL_MS old; otherwise the run, with the progress saved under
 * `stateKey`. Throws what D1 throws.
 *
 * @example
 * const run = await beginRecovery<SnapshotRecoveryState>(deps, "event_recovery", limits);
 * if ("skipped" in run) return run;
 */
export async function beginRecovery<S extends SavedRecovery>(
  deps: Deps,
  stateKey: string,
  limits: RecoveryLimits,
): Promise<RecoveryRun<S> | (RecoveryReport & { skipped: NonNullable<RecoveryReport["skipped"]> })> {
  const report: RecoveryReport = { pages: 0, listed: 0, recovered: 0, passComplete: false };
  const { stripe } = deps;
  if (!stripe) return { ...report, skipped: "no_api_key" };
  const nowMs = deps.now();
  const saved = await readJobState<S>(deps.db, stateKey);
  if (saved && !saved.pass && nowMs - saved.lastRunAt < RECOVERY_INTERVAL_MS) return { ...report, skipped: "not_due" };
  return { stripe, nowMs, saved, report, limits: { ...RECOVERY_LIMITS, ...limits } };
}

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
 * Moves a pass on after a page: to the page's `next` cursor, or, when the listing is exhausted, the
 * watermark to the end of the pass, which is then complete.
 *
 * @example
 * advancePass(state, page.has_more ? { startingAfter: page.data.at(-1)!.id } : null, report);
 */
export function advancePass<S extends RecoveryProgress<object>>(
  state: S,
  next: Omit<NonNullable<S["pass"]>, "from" | "to"> | null,
  report: RecoveryReport,
): void {
  if (!state.pass) return;
  if (next !== null) Object.assign(state.pass, next);
  else {
    state.watermark = state.pass.to;
    state.pass = null;
    report.passComplete = true;
  }
}

/**
 * Records listed events through the same ledger path as a delivery (deduplicated by id, `source =
 * 'recovery'`), sends the new ones to the queue, and counts the page in `report`. An event created
 * before the ledger's retention window is never recorded: retention may have deleted its row after
 * processing it, and the ledger would no longer know it was done (Stripe lists an event as
 * undelivered for 30 days, and a resend after a lost delivery comes within 3).
 *
 * @example
 * await ingest(deps, run.report, page.data.map((e) => ({ event: snapshotEntry(e), payload: JSON.stringify(e) })));
 */
export async function ingest(
  deps: Deps,
  report: RecoveryReport,
  listed: number,
  events: readonly { event: LedgerEvent; payload: string }[],
): Promise<void> {
  report.pages++;
  report.listed += listed;
  const nowMs = deps.now();
  const { retentionDays } = deps.config;
  const oldest = retentionDays === 0 ? Number.NEGATIVE_INFINITY : Math.floor(nowMs / 1000) - retentionDays * 86_400;
  const fresh: string[] = [];
  for (const { event, payload } of events) {
    if (event.created < oldest) continue;
    if (await recordEvent(deps.db, event, { receivedAt: nowMs, payload, source: "recovery" })) fresh.push(event.id);
  }
  if (fresh.length > 0) await dispatch(deps, fresh);
  report.recovered += fresh.length;
}

/**
 * How every recovery run ends: its progress saved (a failure to save is logged, never thrown), and
 * one log line with what it did.
 */
export async function endRecovery(deps: Deps, format: "snapshot" | "thin", stateKey: string, state: unknown, report: RecoveryReport) {
  await writeJobState(deps.db, stateKey, state, deps.now()).catch((err: unknown) =>
    log("error", "recovery_failed", { format, error: errorName(err) }),
  );
  log(report.recovered > 0 ? "warn" : "info", "recovery", { format, ...report });
}
