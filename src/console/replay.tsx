import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { countReplayable, getEventSummary } from "../db/ledger/reads";
import type { AppEnv } from "../http/app-env";
import { allowProcessed, filterFields, filterForm, parseListQuery } from "../http/query";
import { FINAL_STATUSES, isOneOf } from "../ledger/status";
import { CONSOLE_REPLAY_MAX, eventNotFound, replayMatching, replayOne } from "../replay/replay";
import { requirePageSession, requireSession } from "./session";
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
    const count = await countReplayable(c.var.deps.db, parseListQuery(query).filter);
    return c.html(<BulkReplayPage query={query} count={count} max={CONSOLE_REPLAY_MAX} />);
  })
  .post("/replay", csrf(), requireSession, filterForm, async (c) => {
    const query = c.req.valid("form");
    const { replayed, more } = await replayMatching(c.var.deps, parseListQuery(query).filter, CONSOLE_REPLAY_MAX);
    return c.redirect(`/admin?${queryString({ ...query, replayed: String(replayed), more: more ? "1" : "" })}`, 303);
  })
  .get("/events/:id/replay", requirePageSession, async (c) => {
    const event = await getEventSummary(c.var.deps.db, c.req.param("id"));
    if (event === null) throw eventNotFound(c.req.param("id"));
    // Failed and dead events are replayed from their page's button; this page is for final ones.
    if (!isOneOf(FINAL_STATUSES, event.status)) return c.redirect(`/admin/events/${encodeURIComponent(event.id)}`, 303);
    return c.html(<ReplayProcessedPage event={event} />);
  })
  .post("/events/:id/replay", csrf(), requireSession, allowProcessed("form"), async (c) => {
    const id = c.req.param("id");
    await replayOne(c.var.deps, id, c.req.valid("form").allowFinal);
    return c.redirect(`/admin/events/${encodeURIComponent(id)}?replayed=1`, 303);
  });
