import { Hono } from "hono";
import { listArchive } from "../archive/service";
import type { AppEnv } from "../http/app-env";
import { requirePageSession } from "./session";
import { ArchivePage } from "./views/archive-page";

/** `GET /admin/archive`: the hours of arrival the R2 archive holds (the last week of them), and how to restore one. */
export const consoleArchiveRoutes = new Hono<AppEnv>().get("/archive", requirePageSession, async (c) => {
  const { deps } = c.var;
  const hours = deps.archive === null ? null : await listArchive(deps, 0, deps.now() + 1);
  return c.html(<ArchivePage hours={hours} retentionDays={deps.config.retentionDays} />);
});
