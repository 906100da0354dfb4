import { readJobState } from "../db/job-state";
import { SWEEP_STATE, sweepArrivals, takeDue } from "../db/ledger/upkeep";
import type { Deps } from "../deps";
import { errorName, log } from "../log";
import { dispatch } from "../queue/enqueue";

/** Upper bound per run, so one cron invocation stays short even after a long queue outage. */
const REDRIVE_BATCH_LIMIT = 500;
/** Rows the sweep reads per statement, and statements per run (50,000 arrivals a minute). */
const SWEEP_WINDOW = 5_000;
const SWEEP_WINDOWS_PER_RUN = 10;

export interface RedriveReport {
  /** Arrivals the sweep found unfinished past their grace and made due. */
  swept: number;
  /** Events sent to the queue again. */
  redriven: number;
}

/**
 * What makes answering Stripe before the queue send safe. Each run (every minute):
 * 1. the sweep reads the arrivals since its last position that are at least a grace old, gives
 *    each one still unfinished a re-drive time (a send lost with its isolate, a slow or dead consumer)
 *    and counts them in the charts' hourly arrivals, saving its position with each window;
 * 2. every row whose re-drive time has passed is sent to the queue again and rescheduled (its age
 *    again, so a long backlog costs a few copies per event), unless a live lease holds it.
 * Never throws.
 *
 * @example
 * await redriveDueEvents(deps);
 */
export async function redriveDueEvents(deps: Deps): Promise<RedriveReport> {
  const { db } = deps;
  const nowMs = deps.now();
  const report: RedriveReport = { swept: 0, redriven: 0 };
  try {
    const saved = await readJobState<{ seq: number }>(db, SWEEP_STATE);
    // The first run starts at the beginning: it only reads rows that need nothing, and skips none.
    let position = saved?.seq ?? 0;
    for (let i = 0; i < SWEEP_WINDOWS_PER_RUN; i++) {
      const { scheduled, reachedSeq } = await sweepArrivals(db, position, nowMs, SWEEP_WINDOW);
      report.swept += scheduled;
      if (reachedSeq === position) break;
      position = reachedSeq;
    }

    const ids = await takeDue(db, nowMs, REDRIVE_BATCH_LIMIT);
    if (ids.length > 0) await dispatch(deps, ids);
    report.redriven = ids.length;
    log(ids.length > 0 ? "warn" : "info", "redrive", { swept: report.swept, count: ids.length, more: ids.length === REDRIVE_BATCH_LIMIT });
  } catch (err) {
    log("error", "redrive_failed", { error: errorName(err) });
  }
  return report;
}
