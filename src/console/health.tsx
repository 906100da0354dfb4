import { Hono } from "hono";
import { healthReport } from "../health/report";
import type { AppEnv } from "../http/app-env";
import { requirePageSession } from "./session";
import { HealthPage } from "./views/health-page";

/** `GET /admin/health`: the operator's health report, the same as `GET /admin/api/health`. */
export const consoleHealthRoutes = new Hono<AppEnv>().get("/health", requirePageSession, async (c) => {
  const { config, db, now } = c.var.deps;
  return c.html(<HealthPage report={await healthReport(config, db, now())} />);
});
