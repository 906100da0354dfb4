import type { Database } from "../db/client";
import { purgeEvents, resetForReplay } from "../db/ledger/operator";
import { type Cursor, type EventFilter, findReplayable, getEventSummary } from "../db/ledger/reads";
import type { Deps } from "../deps";
import { ApiError } from "../errors";
import { REPLAYABLE_STATUSES } from "../ledger/status";
import { log } from "../log";
import { dispatch } from "../queue/enqueue";

/** At most this many events are replayed or purged per bulk API call; `next_cursor` continues. */
export const REPLAY_BATCH = 50;
/**
 * At most this many events one console confirmation replays: their ids are read in one query, reset
 * in one D1 batch (resetForReplay splits them into statements) and sent in batches of 100, so a
 * request stays far inside a Worker's limits; the page offers the rest again.
 */
export const CONSOLE_REPLAY_MAX = 500;

/**
 * Resets replayable events (and final ones with `allowFinal`) and sends them to the queue. Returns the
 * ids actually reset: an event that moved on meanwhile (or was never replayable) is left alone. A
 * failed send is re-driven by the cron.
 *
 * @example
 * await replay(deps, ["evt_123"], true); // a processed event, confirmed by an operator
 */
export async function replay(deps: Deps, ids: readonly string[], allowFinal = false): Promise<string[]> {
  const reset = await resetForReplay(deps.db, ids, deps.now(), allowFinal);
  if (reset.length > 0) await dispatch(deps, reset);
  for (const id of reset) log("info", "event_replayed", { event_id: id });
  return reset;
}

/**
 * Replays one event (a final one too with `allowFinal`), as the API and the console's buttons do:
 * `not_found` for an unknown id, `replay_not_allowed` when its status does not allow it (or it moved
 * on meanwhile). Reads the event without its payload.
 *
 * @example
 * await replayOne(deps, "evt_123", false);
 */
export async function replayOne(deps: Deps, id: string, allowFinal: boolean): Promise<void> {
  const event = await getEventSummary(deps.db, id);
  if (event === null) throw eventNotFound(id);
  const reset = await replay(deps, [id], allowFinal);
  if (reset.length === 0) throw notReplayable(id, event.status, "replayed");
}

/**
 * Replays the `failed`/`dead` events matching the filter, newest arrival first, up to `max` of them.
 * One page of `max` ids usually does it; an event that moved on meanwhile is not reset, so the next
 * page fills up to `max`. `more` says whether matching events remain.
 */
export async function replayMatching(deps: Deps, filter: EventFilter, max: number): Promise<{ replayed: number; more: boolean }> {
  let replayed = 0;
  let cursor: Cursor | null = null;
  do {
    const page = await findReplayable(deps.db, filter, cursor, max - replayed);
    replayed += (await replay(deps, page.ids)).length;
    cursor = page.next;
  } while (cursor !== null && replayed < max);
  return { replayed, more: cursor !== null };
}

/** Deletes failed/dead events for good (an operator's decision; retention never does). Returns the ids deleted. */
export async function purge(db: Database, ids: readonly string[], nowMs: number): Promise<string[]> {
  const purged = await purgeEvents(db, ids, nowMs);
  for (const id of purged) log("warn", "event_purged", { event_id: id });
  return purged;
}

/** The 409 for an event whose status does not allow the action; a final event names the explicit way. */
export function notReplayable(id: string, status: string, action: "replayed" | "purged"): ApiError {
  const final = action === "replayed" && (status === "processed" || status === "ignored");
  const hint = final
    ? " To run its handlers again (fulfilments stay once-only), replay it with allow_processed=true, or confirm on its page in the console."
    : "";
  return new ApiError(
    "replay_not_allowed",
    `Event ${id} is ${status}; only ${REPLAYABLE_STATUSES.join(" or ")} events can be ${action}.${hint}`,
  );
}

/** The notFound answer for an unknown event id. */
export function eventNotFound(id: string): ApiError {
  return new ApiError("not_found", `No event ${id} in the ledger.`);
}
