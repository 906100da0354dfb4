import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { startBackfill } from "../backfill/start";
import type { AppEnv } from "../http/app-env";
import { requireSession } from "./session";

/**
 * `POST /admin/backfill`: the console's backfill button. Like `POST /admin/api/backfill` (start or
 * resume, one bounded slice now; the cron continues), behind the console's session cookie and
 * same-origin check, then back to the events page, whose panel shows the progress.
 */
export const consoleBackfillRoutes = new Hono<AppEnv>().post("/backfill", csrf(), requireSession, async (c) => {
  await startBackfill(c.var.deps);
  return c.redirect("/admin#backfill", 303);
});
