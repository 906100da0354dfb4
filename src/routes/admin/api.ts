import { Hono } from "hono";
import { readSettings } from "../../config";
import { databaseSize, findReplayable, getEvent, ledgerStats, listEvents, purgeEvents, type EventSummary } from "../../db/admin";
import { createDb, type Database } from "../../db/client";
import { REPLAYABLE_STATUSES, resetForReplay } from "../../db/events";
import { ApiError } from "../../errors";
import { log } from "../../log";
import { dispatch } from "../../queue/enqueue";
import type { AppEnv } from "../../app";
import { requireBearer } from "./auth";
import { backfillApiRoutes } from "./backfill";
import { endpointApiRoutes } from "./endpoint";
import { encodeCursor, parseListQuery } from "./query";
import { API_LIMIT, rateLimit } from "./rate-limit";

/** At most this many events are replayed or purged per bulk call; `next_cursor` continues. */
export const REPLAY_BATCH = 50;

/**
 * Resets replayable events and sends them to the queue. Returns the ids actually reset: an event that
 * moved on meanwhile (or was never dead/failed) is left alone. A failed send is re-driven by the cron.
 */
export async function replay(env: Env, db: Database, ids: readonly string[], nowMs: number): Promise<string[]> {
  const reset = await resetForReplay(db, ids, nowMs);
  if (reset.length > 0) await dispatch(env.EVENTS_QUEUE, db, reset, nowMs);
  for (const id of reset) log("info", "event_replayed", { event_id: id });
  return reset;
}

/** Deletes failed/dead events for good (an operator's decision; retention never does). Returns the ids deleted. */
async function purge(db: Database, ids: readonly string[]): Promise<string[]> {
  const purged = await purgeEvents(db, ids);
  for (const id of purged) log("warn", "event_purged", { event_id: id });
  return purged;
}

function notReplayable(id: string, status: string, action: "replayed" | "purged"): ApiError {
  return new ApiError("replay_not_allowed", `Event ${id} is ${status}; only ${REPLAYABLE_STATUSES.join(" or ")} events can be ${action}.`);
}

/** The notFound answer for an unknown event id. */
export function eventNotFound(id: string): ApiError {
  return new ApiError("not_found", `No event ${id} in the ledger.`);
}

/** The JSON shape of a ledger row for the API (snake_case like Stripe's own API). */
export function eventJson(e: EventSummary) {
  return {
    id: e.id,
    type: e.type,
    status: e.status,
    attempts: e.attempts,
    last_error: e.lastError,
    received_at: new Date(e.receivedAt).toISOString(),
    processed_at: e.processedAt === null ? null : new Date(e.processedAt).toISOString(),
    created: e.created,
    livemode: e.livemode,
    account: e.account,
    api_version: e.apiVersion,
    source: e.source,
    secret_index: e.secretIndex,
    format: e.format,
    object_id: e.objectId,
    context: e.context,
  };
}

/**
 * `/admin/api/*`: the operator API, Bearer-authenticated and limited per client IP (enabled/disabled is
 * checked by the parent).
 */
export const adminApiRoutes = new Hono<AppEnv>()
  .use(rateLimit(API_LIMIT), requireBearer)
  .get("/events", async (c) => {
    const q = parseListQuery(c.req.query());
    const { events, next } = await listEvents(createDb(c.env.DB), q.filter, q.cursor, q.limit);
    return c.json({ events: events.map(eventJson), next_cursor: encodeCursor(next) });
  })
  .get("/events/:id", async (c) => {
    const event = await getEvent(createDb(c.env.DB), c.req.param("id"));
    if (event === null) throw eventNotFound(c.req.param("id"));
    // The payload is the verified body as received; parse it for the reader, it was JSON when stored.
    return c.json({ event: { ...eventJson(event), payload: JSON.parse(event.payload) as unknown } });
  })
  .post("/events/:id/replay", async (c) => {
    const id = c.req.param("id");
    const db = createDb(c.env.DB);
    const event = await getEvent(db, id);
    if (event === null) throw eventNotFound(id);
    const reset = await replay(c.env, db, [id], c.var.now());
    if (reset.length === 0) throw notReplayable(id, event.status, "replayed");
    return c.json({ replayed: 1, id, status: "received" });
  })
  .delete("/events/:id", async (c) => {
    const id = c.req.param("id");
    const db = createDb(c.env.DB);
    const event = await getEvent(db, id);
    if (event === null) throw eventNotFound(id);
    if ((await purge(db, [id])).length === 0) throw notReplayable(id, event.status, "purged");
    return c.json({ purged: 1, id });
  })
  .post("/replay", async (c) => {
    const q = parseListQuery(c.req.query(), REPLAY_BATCH);
    const db = createDb(c.env.DB);
    const { ids, next } = await findReplayable(db, q.filter, q.cursor, q.limit);
    const reset = await replay(c.env, db, ids, c.var.now());
    return c.json({ replayed: reset.length, ids: reset, next_cursor: encodeCursor(next) });
  })
  .post("/purge", async (c) => {
    const q = parseListQuery(c.req.query(), REPLAY_BATCH);
    const db = createDb(c.env.DB);
    const { ids, next } = await findReplayable(db, q.filter, q.cursor, q.limit);
    const purged = await purge(db, ids);
    return c.json({ purged: purged.length, ids: purged, next_cursor: encodeCursor(next) });
  })
  .get("/stats", async (c) => {
    const db = createDb(c.env.DB);
    const [stats, size] = await Promise.all([ledgerStats(db, c.var.now()), databaseSize(db)]);
    const settings = readSettings(c.env);
    return c.json({
      unfinished: stats.unfinished,
      last_24h: {
        by_status: stats.recent.byStatus,
        by_type: stats.recent.byType,
        by_secret_index: stats.recent.bySecretIndex.map((s) => ({ secret_index: s.secretIndex, count: s.count, last_received_at: new Date(s.lastReceivedAt).toISOString() })),
      },
      oldest_unprocessed: stats.oldestUnprocessed && {
        id: stats.oldestUnprocessed.id,
        status: stats.oldestUnprocessed.status,
        received_at: new Date(stats.oldestUnprocessed.receivedAt).toISOString(),
      },
      database: { size_bytes: size, max_bytes: settings instanceof ApiError ? null : settings.d1MaxBytes },
    });
  })
  .route("/", backfillApiRoutes)
  .route("/", endpointApiRoutes);
