import type Stripe from "stripe";
import { readConfig } from "../config";
import { createDb, type Database } from "../db/client";
import { type FormatSeen, formatSeenKey, readJobState, writeJobState } from "../db/job-state";
import { recordEvent } from "../db/ledger/record";
import type { Handlers } from "../handlers/registry";
import { errorName, log } from "../log";
import { dispatch } from "../queue/enqueue";
import { createStripeApi } from "../stripe/api";
import { isThinPayload, thinCreatedSeconds, thinEntry } from "../stripe/event-shape";
import { passWindow, RECOVERY_INTERVAL_MS, RECOVERY_LIMITS, type RecoveryLimits, type RecoveryReport } from "./recover";

const STATE_KEY = "thin_event_recovery";

/**
 * Progress of the thin recovery. `floor`: the first thin event this Worker processed; nothing older
 * is recovered. `watermark`: every thin event created before it has been checked. `pass`: a listing
 * in progress (created in (from, to]), resumed at the page URL Stripe gave (`next`).
 */
interface ThinRecoveryState {
  floor: number;
  watermark: number;
  lastRunAt: number;
  pass: { from: number; to: number; next: string | null } | null;
}

/** One page of `GET /v2/core/events`: no `has_more`, a URL for the next page instead. */
interface V2Page {
  data: unknown[];
  next_page_url?: string | null;
}

/**
 * Finds thin events Stripe never delivered, through `GET /v2/core/events` (30 days back), and feeds
 * them through the same ledger path as a delivery (deduplicated by id; `source = 'recovery'`). It runs
 * only where thin delivery is in use, i.e. once the consumer has processed a thin event (the v2 list
 * holds every thin event of the account, whether or not a destination sends it here, and recording
 * those would give snapshot-only installs thin twins of every event), and records only types with an
 * `onThin` handler created since the first thin event processed. Bounded like the snapshot recovery
 * (`maxPages` pages of `pageSize`), resumable, at most every RECOVERY_INTERVAL_MS. Needs
 * STRIPE_SECRET_KEY. Never throws.
 *
 * @example
 * ctx.waitUntil(recoverMissedThinEvents(env, handlers, Date.now()));
 */
export async function recoverMissedThinEvents(
  env: Env,
  handlers: Handlers,
  nowMs: number,
  limits: RecoveryLimits = {},
): Promise<RecoveryReport> {
  const { maxPages = RECOVERY_LIMITS.maxPages, pageSize = RECOVERY_LIMITS.pageSize } = limits;
  const report: RecoveryReport = { pages: 0, listed: 0, recovered: 0, passComplete: false };
  const wanted = new Set(handlers.thinTypes());
  if (wanted.size === 0) return { ...report, skipped: "no_handlers" };
  const stripe = createStripeApi(readConfig(env).stripeApi);
  if (!stripe) return { ...report, skipped: "no_api_key" };

  const db = createDb(env.DB);
  const nowSeconds = Math.floor(nowMs / 1000);
  let state: ThinRecoveryState;
  try {
    const saved = await readJobState<ThinRecoveryState>(db, STATE_KEY);
    if (saved && !saved.pass && nowMs - saved.lastRunAt < RECOVERY_INTERVAL_MS) return { ...report, skipped: "not_due" };
    const seen = saved ? null : await readJobState<FormatSeen>(db, formatSeenKey("thin"));
    if (!saved && !seen) return { ...report, skipped: "format_not_in_use" };
    state = saved ?? { floor: seen!.firstCreated, watermark: seen!.firstCreated, lastRunAt: 0, pass: null };
  } catch (err) {
    log("error", "recovery_failed", { format: "thin", error: errorName(err), pages: 0, recovered: 0 });
    return report;
  }
  state.lastRunAt = nowMs;

  try {
    state.pass ??= { ...passWindow(state.watermark, nowSeconds), next: null };
    while (state.pass && report.pages < maxPages) {
      const page = await listPage(stripe, state.pass, pageSize);
      report.pages++;
      report.listed += page.data.length;
      const fresh: string[] = [];
      for (const item of page.data) {
        if (!isThinPayload(item) || !wanted.has(item.type) || thinCreatedSeconds(item.created) < state.floor) continue;
        if (await recordRecovered(db, item, nowMs)) fresh.push(item.id);
      }
      if (fresh.length > 0) await dispatch(env.EVENTS_QUEUE, db, fresh, nowMs);
      report.recovered += fresh.length;
      if (page.next_page_url && page.data.length > 0) state.pass.next = page.next_page_url;
      else {
        state.watermark = state.pass.to;
        state.pass = null;
        report.passComplete = true;
      }
    }
  } catch (err) {
    log("error", "recovery_failed", { format: "thin", error: errorName(err), pages: report.pages, recovered: report.recovered });
  } finally {
    await writeJobState(db, STATE_KEY, state, nowMs).catch((err: unknown) =>
      log("error", "recovery_failed", { format: "thin", error: errorName(err) }),
    );
  }
  log(report.recovered > 0 ? "warn" : "info", "recovery", { format: "thin", ...report });
  return report;
}

/**
 * The first page through the SDK's list (v2 `created` filters are ISO 8601 date-times although the
 * SDK types them as numbers; the SDK encodes them as `created[gt]=…`), later pages at the URL Stripe
 * returned, which carries the filters itself.
 */
async function listPage(stripe: Stripe, pass: NonNullable<ThinRecoveryState["pass"]>, pageSize: number): Promise<V2Page> {
  if (pass.next) return (await stripe.rawRequest("GET", pass.next)) as V2Page;
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  const params = { created: { gt: iso(pass.from), lte: iso(pass.to) }, limit: pageSize } as unknown as Stripe.V2.Core.EventListParams;
  return (await stripe.v2.core.events.list(params)) as unknown as V2Page;
}

/**
 * Records a listed event. Its JSON is a full v2 Event (a notification plus `reason`, `changes`, …), with
 * `context` still the string Stripe sent, so the consumer re-reads it exactly like a delivered body.
 */
function recordRecovered(db: Database, item: Parameters<typeof thinEntry>[0], nowMs: number): Promise<boolean> {
  return recordEvent(db, thinEntry(item), { receivedAt: nowMs, payload: JSON.stringify(item), source: "recovery" });
}
