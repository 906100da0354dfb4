import { Hono } from "hono";
import { healthReport } from "../health/report";
import type { AppEnv } from "../http/app-env";

/**
 * `GET /health`: 200 when the Worker can verify and record deliveries, 503 naming the failing check
 * otherwise (src/health/report.ts). `checks.stripe_api` warns while thin events are parked for want
 * of STRIPE_SECRET_KEY; `checks.endpoint` shows the cron's last daily endpoint drift check (warnings,
 * never a 503).
 */
export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const { config, db, now } = c.var.deps;
  const report = await healthReport(config, db, now());
  return c.json(report, report.ok ? 200 : 503);
});
