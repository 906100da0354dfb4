import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { createDb } from "../../db/client";
import { countReplayable, getEventSummary } from "../../db/ledger/reads";
import type { AppEnv } from "../../http/app-env";
import { FINAL_STATUSES } from "../../ledger/status";
import { requirePageSession, requireSession } from "./auth";
import { filterFields, isTrue, parseListQuery, readForm } from "./query";
import { CONSOLE_REPLAY_MAX, eventNotFound, replayMatching, replayOne } from "./replay";
import { queryString } from "./views/layout";
import { BulkReplayPage, ReplayProcessedPage } from "./views/replay-pages";

/**
 * The console's replays, each behind a confirmation: the failed/dead events matching a filter (the
 * page says how many), one failed/dead event (its Replay button), and one processed or ignored event
 * (a page that says fulfilment is once-only, then a form that says so explicitly). Every POST needs
 * the session and passes csrf() like the other console forms.
 */
export const consoleReplayRoutes = new Hono<AppEnv>()
  .get("/replay", requirePageSession, async (c) => {
    const query = filterFields(c.req.query());
    const { filter } = parseListQuery(query);
    const count = await countReplayable(createDb(c.env.DB), filter);
    return c.html(<BulkReplayPage query={query} count={count} max={CONSOLE_REPLAY_MAX} />);
  })
  .post("/replay", csrf(), requireSession, async (c) => {
    const query = filterFields(await readForm(c));
    const { filter } = parseListQuery(query);
    const { replayed, more } = await replayMatching(c.env, createDb(c.env.DB), filter, c.var.now(), CONSOLE_REPLAY_MAX);
    return c.redirect(`/admin?${queryString({ ...query, replayed: String(replayed), more: more ? "1" : "" })}`, 303);
  })
  .get("/events/:id/replay", requirePageSession, async (c) => {
    const event = await getEventSummary(createDb(c.env.DB), c.req.param("id"));
    if (event === null) throw eventNotFound(c.req.param("id"));
    // Failed and dead events are replayed from their page's button; this page is for final ones.
    if (!(FINAL_STATUSES as readonly string[]).includes(event.status))
      return c.redirect(`/admin/events/${encodeURIComponent(event.id)}`, 303);
    return c.html(<ReplayProcessedPage event={event} />);
  })
  .post("/events/:id/replay", csrf(), requireSession, async (c) => {
    const id = c.req.param("id");
    const allowFinal = isTrue("allow_processed", (await readForm(c)).allow_processed);
    await replayOne(c.env, createDb(c.env.DB), id, c.var.now(), allowFinal);
    return c.redirect(`/admin/events/${encodeURIComponent(id)}?replayed=1`, 303);
  });
