import { Hono } from "hono";
import { HOUR_MS, hourOf, readChartHours } from "../db/ledger/hours";
import type { AppEnv } from "../http/app-env";
import { CHART_HOURS } from "../maintenance/ledger-hours";
import { requirePageSession } from "./session";
import { ChartsPage } from "./views/charts-page";

/**
 * `GET /admin/charts`: a week of hourly aggregates (≤ 169 rows of ledger_hours, and the arrivals the
 * sweep has not counted yet), drawn as inline SVG.
 */
export const consoleChartRoutes = new Hono<AppEnv>().get("/charts", requirePageSession, async (c) => {
  const current = hourOf(c.var.deps.now());
  const rows = await readChartHours(c.var.deps.db, current - CHART_HOURS * HOUR_MS, current + HOUR_MS);
  return c.html(<ChartsPage rows={rows} currentHour={current} />);
});
