import { Hono } from "hono";
import { createDb } from "../../db/client";
import { countReplayable, findReplayable, getEvent, getEventSummary, listEvents } from "../../db/ledger/reads";
import { databaseSize, ledgerStats } from "../../db/ledger/stats";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";
import { adminObjectRoutes } from "./api-objects";
import { requireBearer } from "./auth";
import { backfillApiRoutes } from "./backfill";
import { endpointApiRoutes } from "./endpoint";
import { eventJson, statsJson } from "./json";
import { encodeCursor, isTrue, parseListQuery } from "./query";
import { API_LIMIT, rateLimit } from "./rate-limit";
import { eventNotFound, notReplayable, purge, REPLAY_BATCH, replay, replayOne } from "./replay";

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
  // `allow_processed=true` also replays a processed or ignored event: its `on` handlers run again,
  // fulfilments stay once-only. Without it such an event answers 409, as before.
  .post("/events/:id/replay", async (c) => {
    const id = c.req.param("id");
    const allowFinal = isTrue("allow_processed", c.req.query("allow_processed"));
    await replayOne(c.env, createDb(c.env.DB), id, c.var.now(), allowFinal);
    return c.json({ replayed: 1, id, status: "received" });
  })
  .delete("/events/:id", async (c) => {
    const id = c.req.param("id");
    const db = createDb(c.env.DB);
    const event = await getEventSummary(db, id);
    if (event === null) throw eventNotFound(id);
    if ((await purge(db, [id])).length === 0) throw notReplayable(id, event.status, "purged");
    return c.json({ purged: 1, id });
  })
  // What a bulk replay of the filter would reset, counted from the attention index (a dry run).
  .get("/replay", async (c) => {
    const q = parseListQuery(c.req.query(), REPLAY_BATCH);
    return c.json({ replayable: await countReplayable(createDb(c.env.DB), q.filter) });
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
  .route("/", adminObjectRoutes)
  .get("/stats", async (c) => {
    const db = createDb(c.env.DB);
    const [stats, size] = await Promise.all([ledgerStats(db, c.var.now()), databaseSize(db)]);
    const { settings } = c.var.config;
    return c.json(statsJson(stats, size, settings instanceof ApiError ? null : settings.d1MaxBytes));
  })
  .route("/", backfillApiRoutes)
  .route("/", endpointApiRoutes);
