import { Hono } from "hono";
import { startBackfill } from "../../backfill/start";
import { backfillProgress, readBackfill } from "../../backfill/state";
import type { AppEnv } from "../../http/app-env";

/**
 * `GET /admin/api/backfill`: the backfill's progress (`status`, `done`, per type `imported` and
 * `done`, the last API error). `POST`: starts a run (none yet, or the last one done) or resumes one
 * (running or paused), runs one bounded slice of it at once, and answers the progress with what this
 * call did in `run` (`outcome`, `pages`, `imported`). The cron continues a running backfill every
 * minute; a script calls POST until `done` to go faster.
 */
export const backfillRoutes = new Hono<AppEnv>()
  .get("/backfill", async (c) => c.json(backfillProgress(await readBackfill(c.var.deps.db))))
  .post("/backfill", async (c) => {
    const report = await startBackfill(c.var.deps);
    return c.json({ ...backfillProgress(report.state), run: { outcome: report.outcome, pages: report.pages, imported: report.imported } });
  });
