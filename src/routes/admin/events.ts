import { Hono } from "hono";
import { findEvent } from "../../archive/service";
import { countReplayable, findReplayable, getEventSummary, listEvents } from "../../db/ledger/reads";
import type { AppEnv } from "../../http/app-env";
import { allowProcessed, encodeCursor, listQuery } from "../../http/query";
import { eventNotFound, notReplayable, purge, REPLAY_BATCH, replay, replayOne } from "../../replay/replay";
import { eventJson, iso } from "./json";

/**
 * `/admin/api/events`, `/admin/api/replay` and `/admin/api/purge`: the ledger, one event, and replays
 * and purges one by one or by filter (`REPLAY_BATCH` per call, `next_cursor` continues).
 */
export const eventRoutes = new Hono<AppEnv>()
  .get("/events", listQuery(), async (c) => {
    const q = c.req.valid("query");
    const { events, next } = await listEvents(c.var.deps.db, q.filter, q.cursor, q.limit);
    return c.json({ events: events.map(eventJson), next_cursor: encodeCursor(next) });
  })
  // The ledger's event, or the archive's when retention moved it to R2 (`archived` says where).
  .get("/events/:id", async (c) => {
    const event = await findEvent(c.var.deps, c.req.param("id"));
    if (event === null) throw eventNotFound(c.req.param("id"));
    // The payload is the verified body as received; parse it for the reader, it was JSON when stored.
    const archived =
      "archived" in event
        ? {
            archived: {
              hour: new Date(event.archived.hour).toISOString(),
              key: event.archived.key,
              archived_at: iso(event.archived.archivedAt),
            },
          }
        : {};
    return c.json({ event: { ...eventJson(event), payload: JSON.parse(event.payload) as unknown, ...archived } });
  })
  // `allow_processed=true` also replays a processed or ignored event: its `on` handlers run again,
  // fulfilments stay once-only. Without it such an event answers 409, as before.
  .post("/events/:id/replay", allowProcessed("query"), async (c) => {
    const id = c.req.param("id");
    await replayOne(c.var.deps, id, c.req.valid("query").allowFinal);
    return c.json({ replayed: 1, id, status: "received" });
  })
  .delete("/events/:id", async (c) => {
    const id = c.req.param("id");
    const { db } = c.var.deps;
    const event = await getEventSummary(db, id);
    if (event === null) throw eventNotFound(id);
    if ((await purge(db, [id], c.var.deps.now())).length === 0) throw notReplayable(id, event.status, "purged");
    return c.json({ purged: 1, id });
  })
  // What a bulk replay of the filter would reset, counted from the attention index (a dry run).
  .get("/replay", listQuery(REPLAY_BATCH), async (c) => {
    return c.json({ replayable: await countReplayable(c.var.deps.db, c.req.valid("query").filter) });
  })
  .post("/replay", listQuery(REPLAY_BATCH), async (c) => {
    const q = c.req.valid("query");
    const { ids, next } = await findReplayable(c.var.deps.db, q.filter, q.cursor, q.limit);
    const reset = await replay(c.var.deps, ids);
    return c.json({ replayed: reset.length, ids: reset, next_cursor: encodeCursor(next) });
  })
  .post("/purge", listQuery(REPLAY_BATCH), async (c) => {
    const q = c.req.valid("query");
    const { db } = c.var.deps;
    const { ids, next } = await findReplayable(db, q.filter, q.cursor, q.limit);
    const purged = await purge(db, ids, c.var.deps.now());
    return c.json({ purged: purged.length, ids: purged, next_cursor: encodeCursor(next) });
  });
