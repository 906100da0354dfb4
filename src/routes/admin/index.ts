import { Hono } from "hono";
import type { AppEnv } from "../../http/app-env";
import { adminApiRoutes } from "./api";
import { requireEnabled } from "./auth";
import { backfillFormRoutes } from "./backfill-form";
import { adminConsoleRoutes } from "./console";

/**
 * Everything under `/admin`: the JSON API at `/admin/api/*` and the console (its backfill button after
 * it, so the console's security headers apply to it too). 404 unless ADMIN_TOKEN is set.
 */
export const adminRoutes = new Hono<AppEnv>()
  .use(requireEnabled)
  .route("/api", adminApiRoutes)
  .route("/", adminConsoleRoutes)
  .route("/", backfillFormRoutes);
