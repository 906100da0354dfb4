import { Hono } from "hono";
import { ENDPOINT_CHECK_STATE, type EndpointCheckState } from "../cron/endpoint-check";
import { createDb } from "../db/client";
import { readAttention } from "../db/ledger/attention";
import { ApiError } from "../errors";
import { type Check, endpointCheck, secretCheck, sizeCheck, stripeApiCheck } from "../health/checks";
import type { AppEnv } from "../http/app-env";
import { errorName, log } from "../log";

/**
 * `GET /health`: 200 when the Worker can verify and record deliveries, 503 naming the failing check
 * otherwise. Reports counts, sizes and codes only, never a secret's value. `checks.stripe_api` warns
 * while thin events are parked for want of STRIPE_SECRET_KEY (they are recorded and safe, but
 * nothing processes them until the key is set and they are replayed). `checks.endpoint` shows the
 * cron's last daily endpoint drift check (warnings, never a 503).
 */
export const healthRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const nowMs = c.var.now();
  const { webhookSecrets: secrets, settings: parsed, stripeApi } = c.var.config;
  const webhookSecret =
    secrets instanceof ApiError
      ? { ok: false, configured: 0, message: `${secrets.code}: ${secrets.message}` }
      : secretCheck(secrets, nowMs);
  const settings: Check = parsed instanceof ApiError ? { ok: false, message: `${parsed.code}: ${parsed.message}` } : { ok: true };
  const maxBytes = parsed instanceof ApiError ? null : parsed.d1MaxBytes;

  // One query (readAttention) proves D1 answers on the current schema, counts parked thin events and
  // reads the last endpoint drift check (saved by the cron, so /health never calls Stripe).
  let parked: number | null = null;
  let endpoint: EndpointCheckState | null = null;
  const database = await readAttention(createDb(c.env.DB), ENDPOINT_CHECK_STATE)
    .then((readings): Check => {
      parked = readings.parkedThin;
      endpoint = readings.saved as EndpointCheckState | null;
      return sizeCheck(readings.sizeBytes, maxBytes);
    })
    .catch((err: unknown): Check => {
      log("error", "health_database_failed", { error: errorName(err) });
      return {
        ok: false,
        message:
          "D1 (binding DB) did not answer a query on stripe_events: " +
          "is the database bound and are migrations applied (npm run db:migrate:local / db:migrate:remote)?",
      };
    });

  const ok = webhookSecret.ok && settings.ok && database.ok;
  return c.json(
    {
      ok,
      checks: {
        webhook_secret: webhookSecret,
        settings,
        database,
        stripe_api: stripeApiCheck(stripeApi.key !== null, parked),
        endpoint: endpointCheck(endpoint),
      },
    },
    ok ? 200 : 503,
  );
});
