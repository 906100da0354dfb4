import { Hono } from "hono";
import { sql } from "drizzle-orm";
import { readConfig } from "../config";
import { createDb } from "../db/client";
import { errorName, log } from "../log";
import type { AppEnv } from "../app";

interface Check {
  ok: boolean;
  message?: string;
}

/**
 * `GET /health`: 200 when the Worker can verify and record deliveries, 503 naming the failing check
 * otherwise. Reports counts and codes only, never a secret's value.
 */
export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const config = readConfig(c.env);
  const webhookSecret: Check & { configured: number } = config.ok
    ? { ok: true, configured: config.config.webhookSecrets.length }
    : { ok: false, configured: 0, message: `${config.error.code}: ${config.error.message}` };

  const database: Check = await createDb(c.env.DB)
    .run(sql`SELECT 1 FROM stripe_events LIMIT 1`)
    .then(() => ({ ok: true }))
    .catch((err: unknown) => {
      log("error", "health_database_failed", { error: errorName(err) });
      return { ok: false, message: "D1 (binding DB) did not answer a query on stripe_events: is the database bound and are migrations applied (npm run db:migrate:local / db:migrate:remote)?" };
    });

  const ok = webhookSecret.ok && database.ok;
  return c.json({ ok, checks: { webhook_secret: webhookSecret, database } }, ok ? 200 : 503);
});
