import { Hono } from "hono";
import { runBackfill } from "../../backfill/run";
import { backfillProgress, readBackfill } from "../../backfill/state";
import { createDb } from "../../db/client";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";
import { requireStripeApi } from "../../stripe/api";

/**
 * `GET /admin/api/backfill`: the backfill's progress (`status`, `done`, per type `imported` and
 * `done`, the last API error). `POST`: starts a run (none yet, or the last one done) or resumes one
 * (running or paused), runs one bounded slice of it at once, and answers the progress with what this
 * call did in `run` (`outcome`, `pages`, `imported`). The cron continues a running backfill every
 * minute; a script calls POST until `done` to go faster. Mounted under the Bearer-authenticated API.
 */
export const backfillApiRoutes = new Hono<AppEnv>()
  .get("/backfill", async (c) => c.json(backfillProgress(await readBackfill(createDb(c.env.DB)))))
  .post("/backfill", async (c) => {
    const stripe = requireStripeApi(c.var.config.stripeApi, "The backfill reads Stripe's list APIs");
    const report = await runBackfill(c.env, c.var.now, { start: true, stripe });
    if (report.outcome === "storage_error") {
      throw new ApiError(
        "storage_unavailable",
        "D1 could not save the backfill's progress; nothing was lost (the page is read again next time). " +
          "Check the DB binding and that migrations are applied, then POST again.",
      );
    }
    return c.json({ ...backfillProgress(report.state), run: { outcome: report.outcome, pages: report.pages, imported: report.imported } });
  });
