import { Hono } from "hono";
import { sql } from "drizzle-orm";
import { readConfig, type WebhookSecret } from "../config";
import { createDb } from "../db/client";
import { errorName, log } from "../log";
import type { AppEnv } from "../app";

/** How long before a secret's expiry `/health` starts warning: a day leaves time to finish the roll. */
export const EXPIRY_WARNING_MS = 24 * 60 * 60_000;

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
  const nowMs = c.var.now();
  const webhookSecret: Check & { configured: number; warnings?: string[] } = config.ok
    ? secretCheck(config.config.webhookSecrets, nowMs)
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

/**
 * Healthy while at least one secret still verifies; entries that expired or expire within
 * EXPIRY_WARNING_MS are named by position (never value) in `warnings`, present only when non-empty.
 */
function secretCheck(secrets: readonly WebhookSecret[], nowMs: number): Check & { configured: number; warnings?: string[] } {
  const warnings: string[] = [];
  let usable = 0;
  for (const [i, { expiresAt }] of secrets.entries()) {
    const at = expiresAt === null ? "" : new Date(expiresAt).toISOString();
    if (expiresAt === null || expiresAt > nowMs) usable++;
    if (expiresAt === null) continue;
    if (expiresAt <= nowMs) warnings.push(`Entry ${i + 1} of ${secrets.length} in STRIPE_WEBHOOK_SECRET expired at ${at} and verifies nothing: remove it.`);
    else if (expiresAt - nowMs <= EXPIRY_WARNING_MS) warnings.push(`Entry ${i + 1} of ${secrets.length} in STRIPE_WEBHOOK_SECRET expires at ${at}: finish the roll before then.`);
  }
  const check: Check & { configured: number; warnings?: string[] } =
    usable > 0
      ? { ok: true, configured: secrets.length }
      : { ok: false, configured: secrets.length, message: "webhook_secret_invalid: every entry in STRIPE_WEBHOOK_SECRET has expired, so no delivery can be verified. Put the current signing secret with `wrangler secret put STRIPE_WEBHOOK_SECRET`." };
  if (warnings.length > 0) check.warnings = warnings;
  return check;
}
