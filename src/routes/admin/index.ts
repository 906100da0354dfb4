import { Hono } from "hono";
import { databaseSize, ledgerStats } from "../../db/ledger/stats";
import { healthReport } from "../../health/report";
import type { AppEnv } from "../../http/app-env";
import { API_LIMIT, rateLimit } from "../../http/rate-limit";
import { archiveRoutes } from "./archive";
import { requireBearer } from "./auth";
import { backfillRoutes } from "./backfill";
import { endpointRoutes } from "./endpoint";
import { eventRoutes } from "./events";
import { statsJson } from "./json";
import { objectRoutes } from "./objects";

/**
 * `/admin/api/*`: the operator API, Bearer-authenticated and limited per client IP (the app mounts it
 * only while ADMIN_TOKEN is set). The console (src/console/) is built on the same services.
 */
export const adminApiRoutes = new Hono<AppEnv>()
  .use(rateLimit(API_LIMIT), requireBearer)
  .route("/", eventRoutes)
  .route("/", objectRoutes)
  .get("/stats", async (c) => {
    const { db, config, now } = c.var.deps;
    const [stats, size] = await Promise.all([ledgerStats(db, now()), databaseSize(db)]);
    return c.json(statsJson(stats, size, config.problems.some((p) => p.variable === "D1_MAX_BYTES") ? null : config.d1MaxBytes));
  })
  // The whole health report that GET /health sums up as one code: each check, its warnings and counts.
  .get("/health", async (c) => {
    const { config, db, now } = c.var.deps;
    return c.json(await healthReport(config, db, now()));
  })
  .route("/", archiveRoutes)
  .route("/", backfillRoutes)
  .route("/", endpointRoutes);
