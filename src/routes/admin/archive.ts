import { Hono } from "hono";
import { listArchive, restoreRange } from "../../archive/service";
import type { AppEnv } from "../../http/app-env";
import { archiveQuery, encodeArchiveCursor } from "../../http/archive-query";

/**
 * `/admin/api/archive`: the hours of arrival the R2 archive holds, and `/admin/api/archive/restore`,
 * which brings one part of a range back into the ledger per call and replays it, lifecycle events
 * excepted (`next_cursor` continues; `npm run archive:restore` loops over it).
 */
export const archiveRoutes = new Hono<AppEnv>()
  .get("/archive", archiveQuery(false), async (c) => {
    const { from, to } = c.req.valid("query");
    const hours = await listArchive(c.var.deps, from, to);
    return c.json({
      hours: hours.map((h) => ({ hour: new Date(h.hour).toISOString(), parts: h.parts, events: h.events, bytes: h.bytes })),
      // Newest first: the next page ends where this one did.
      next_to: hours.length === 0 ? null : new Date(hours.at(-1)!.hour).toISOString(),
    });
  })
  .post("/archive/restore", archiveQuery(true), async (c) => {
    const { from, to, cursor } = c.req.valid("query");
    const report = await restoreRange(c.var.deps, from, to, cursor);
    return c.json({
      parts: report.parts,
      restored: report.restored,
      replayed: report.replayed.length,
      next_cursor: encodeArchiveCursor(report.next),
    });
  });
