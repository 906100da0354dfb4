import { Hono } from "hono";
import { publicHealth } from "../health/public";
import type { HealthCode } from "../health/report";
import type { AppEnv } from "../http/app-env";

/** What each code means, for a stranger: nothing about which secret, setting or size. */
const MEANING: Record<HealthCode, string> = {
  webhook_secret_missing: "No webhook signing secret is configured, so deliveries cannot be verified.",
  webhook_secret_invalid: "The webhook signing secret configuration is refused, so deliveries cannot be verified.",
  config_invalid: "A variable of this Worker is refused, so deliveries are refused.",
  storage_unavailable: "The database does not answer, so deliveries cannot be recorded.",
  database_full: "The database is nearly full, so deliveries will soon be refused.",
};

/**
 * `GET /health`, for load balancers and uptime checks: 200 `{"status":"ok"}`, or 503 with the
 * `degraded` status and one stable code in the error envelope. Answered from a result cached per
 * isolate for 10 s (src/health/public.ts). Everything else (each check, warnings, counts) is the
 * operator's: `GET /admin/api/health` and the console.
 */
export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const health = await publicHealth(c.var.deps);
  if (health.ok) return c.json({ status: "ok" });
  return c.json(
    {
      status: "degraded",
      error: {
        code: health.code,
        message:
          `${MEANING[health.code]} Stripe retries deliveries meanwhile. ` +
          "The operator's report (GET /admin/api/health, the console) says why.",
      },
    },
    503,
  );
});
