import { Hono } from "hono";
import { csrf } from "hono/csrf";
import { runBackfill } from "../../backfill/run";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";
import { requireStripeApi } from "../../stripe/api";
import { requireSession } from "./auth";

/**
 * `POST /admin/backfill`: the console's backfill button. Like `POST /admin/api/backfill` (start or
 * resume, one bounded slice now; the cron continues), behind the console's session cookie and
 * same-origin check, then back to the events page, whose panel shows the progress.
 */
export const backfillFormRoutes = new Hono<AppEnv>().post("/backfill", csrf(), requireSession, async (c) => {
  const stripe = requireStripeApi(c.var.config.stripeApi, "The backfill reads Stripe's list APIs");
  const report = await runBackfill(c.env, c.var.now, { start: true, stripe });
  if (report.outcome === "storage_error")
    throw new ApiError(
      "storage_unavailable",
      "D1 could not save the backfill's progress; nothing was lost. Check the DB binding, then try again.",
    );
  return c.redirect("/admin#backfill", 303);
});
