import type Stripe from "stripe";
import { type FormatSeen, formatSeenKey, readJobState } from "../db/job-state";
import { errorName, log } from "../log";
import { isThinPayload, type ThinPayload, thinCreatedSeconds, thinEntry } from "../stripe/event-shape";
import { advancePass, beginRecovery, endRecovery, ingest, passWindow, type Recovery, type RecoveryProgress } from "./pass";

const STATE_KEY = "thin_event_recovery";

/** The thin recovery's progress: its floor is the first thin event this Worker processed; a pass resumes at the URL Stripe gave. */
type ThinRecoveryState = RecoveryProgress<{ next: string | null }>;

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
 * STRIPE_SECRET_KEY.
 *
 * @example
 * await recoverMissedThinEvents(deps);
 */
export const recoverMissedThinEvents: Recovery = async (deps, limits = {}) => {
  const wanted = new Set(deps.handlers.thinTypes());
  if (wanted.size === 0) return { pages: 0, listed: 0, recovered: 0, passComplete: false, skipped: "no_handlers" };
  const run = await beginRecovery<ThinRecoveryState>(deps, STATE_KEY, limits);
  if ("skipped" in run) return run;
  const { stripe, report, nowMs } = run;
  const { maxPages, pageSize } = run.limits;
  const seen = run.saved ? null : await readJobState<FormatSeen>(deps.db, formatSeenKey("thin"));
  if (!run.saved && !seen) return { ...report, skipped: "format_not_in_use" };
  const state = run.saved ?? { floor: seen!.firstCreated, watermark: seen!.firstCreated, lastRunAt: 0, pass: null };
  state.lastRunAt = nowMs;

  try {
    state.pass ??= { ...passWindow(state.watermark, Math.floor(nowMs / 1000)), next: null };
    while (state.pass && report.pages < maxPages) {
      const page = await listPage(stripe, state.pass, pageSize);
      const recoverable = page.data.filter(
        (item): item is ThinPayload => isThinPayload(item) && wanted.has(item.type) && thinCreatedSeconds(item.created) >= state.floor,
      );
      // The item's JSON is a full v2 Event (a notification plus `reason`, `changes`, …), with `context`
      // still the string Stripe sent, so the consumer re-reads it exactly like a delivered body.
      await ingest(
        deps,
        report,
        page.data.length,
        recoverable.map((item) => ({ event: thinEntry(item), payload: JSON.stringify(item) })),
      );
      advancePass(state, page.next_page_url && page.data.length > 0 ? { next: page.next_page_url } : null, report);
    }
  } catch (err) {
    log("error", "recovery_failed", { format: "thin", error: errorName(err), pages: report.pages, recovered: report.recovered });
  }
  await endRecovery(deps, "thin", STATE_KEY, state, report);
  return report;
};

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
