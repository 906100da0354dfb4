import { Hono } from "hono";
import { sql } from "drizzle-orm";
import type { WebhookSecret } from "../config";
import { createDb } from "../db/client";
import { PARKED } from "../db/events";
import { jobState, stripeEvents } from "../db/schema";
import { ENDPOINT_CHECK_STATE, type EndpointCheckState } from "../cron/endpoint-check";
import { ApiError } from "../errors";
import { errorName, log } from "../log";
import type { AppEnv } from "../http/app-env";

/** How long before a secret's expiry `/health` starts warning: a day leaves time to finish the roll. */
export const EXPIRY_WARNING_MS = 24 * 60 * 60_000;
/** Share of D1_MAX_BYTES at which `/health` warns, and at which it fails (deliveries will soon be refused). */
export const SIZE_WARNING_SHARE = 0.8;
export const SIZE_FAILING_SHARE = 0.95;

interface Check {
  ok: boolean;
  message?: string;
  warnings?: string[];
}

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
  const webhookSecret = secrets instanceof ApiError ? { ok: false, configured: 0, message: `${secrets.code}: ${secrets.message}` } : secretCheck(secrets, nowMs);
  const settings: Check = parsed instanceof ApiError ? { ok: false, message: `${parsed.code}: ${parsed.message}` } : { ok: true };
  const maxBytes = parsed instanceof ApiError ? null : parsed.d1MaxBytes;

  // One query both proves D1 answers on the current schema, counts parked thin events (read from
  // the attention index, never the ledger) and reads the last endpoint drift check (saved by the cron,
  // so /health never calls Stripe).
  let parked: number | null = null;
  let endpoint: EndpointCheckState | null = null;
  const database = await createDb(c.env.DB)
    .run(
      sql`SELECT count(*) AS parked, (SELECT ${jobState.value} FROM ${jobState} WHERE ${jobState.key} = ${ENDPOINT_CHECK_STATE}) AS endpoint_check FROM ${stripeEvents} WHERE ${PARKED} AND ${stripeEvents.format} = 'thin'`,
    )
    .then((result) => {
      const row = result.results[0] as { parked: number; endpoint_check: string | null } | undefined;
      parked = row?.parked ?? 0;
      endpoint = row?.endpoint_check ? (JSON.parse(row.endpoint_check) as EndpointCheckState) : null;
      return sizeCheck(result.meta.size_after, maxBytes);
    })
    .catch((err: unknown): Check => {
      log("error", "health_database_failed", { error: errorName(err) });
      return { ok: false, message: "D1 (binding DB) did not answer a query on stripe_events: is the database bound and are migrations applied (npm run db:migrate:local / db:migrate:remote)?" };
    });

  const ok = webhookSecret.ok && settings.ok && database.ok;
  return c.json({ ok, checks: { webhook_secret: webhookSecret, settings, database, stripe_api: stripeApiCheck(stripeApi.key !== null, parked), endpoint: endpointCheck(endpoint) } }, ok ? 200 : 503);
});

/**
 * The last endpoint drift check, as saved: always `ok` (drift loses events Stripe never sends, but
 * this Worker still verifies and records everything it gets, so it is never a 503), with its
 * `warnings` (handled types not enabled, a disabled endpoint, another API version, no endpoint found,
 * a failed check) and `info` (enabled types no handler uses), each present only when non-empty.
 * `last_checked_at` is null until the first check (it needs STRIPE_SECRET_KEY).
 */
function endpointCheck(saved: EndpointCheckState | null): Check & { last_checked_at: string | null; endpoints?: string[]; info?: string[] } {
  if (!saved) return { ok: true, last_checked_at: null };
  const { report } = saved;
  const check: Check & { last_checked_at: string; endpoints: string[]; info?: string[] } = { ok: true, last_checked_at: report.checked_at, endpoints: report.endpoints.map((e) => e.id) };
  if (report.warnings.length > 0) check.warnings = report.warnings;
  if (report.info.length > 0) check.info = report.info;
  return check;
}

/**
 * Healthy while at least one secret still verifies; entries that expired or expire within
 * EXPIRY_WARNING_MS are named by position (never value) in `warnings`, present only when non-empty.
 */
export function secretCheck(secrets: readonly WebhookSecret[], nowMs: number): Check & { configured: number } {
  const warnings: string[] = [];
  let usable = 0;
  for (const [i, { expiresAt }] of secrets.entries()) {
    const at = expiresAt === null ? "" : new Date(expiresAt).toISOString();
    if (expiresAt === null || expiresAt > nowMs) usable++;
    if (expiresAt === null) continue;
    if (expiresAt <= nowMs) warnings.push(`Entry ${i + 1} of ${secrets.length} in STRIPE_WEBHOOK_SECRET expired at ${at} and verifies nothing: remove it.`);
    else if (expiresAt - nowMs <= EXPIRY_WARNING_MS) warnings.push(`Entry ${i + 1} of ${secrets.length} in STRIPE_WEBHOOK_SECRET expires at ${at}: finish the roll before then.`);
  }
  const check: Check & { configured: number } =
    usable > 0
      ? { ok: true, configured: secrets.length }
      : { ok: false, configured: secrets.length, message: "webhook_secret_invalid: every entry in STRIPE_WEBHOOK_SECRET has expired, so no delivery can be verified. Put the current signing secret with `wrangler secret put STRIPE_WEBHOOK_SECRET`." };
  if (warnings.length > 0) check.warnings = warnings;
  return check;
}

/**
 * Whether STRIPE_SECRET_KEY is set (`keyConfigured`), and a warning naming it while thin events are parked (`parked`
 * is null when D1 did not answer). Never fails the health check: deliveries are still verified and
 * recorded without a key.
 */
export function stripeApiCheck(keyConfigured: boolean, parked: number | null): Check & { key_configured: boolean; parked_thin_events?: number } {
  const check: Check & { key_configured: boolean; parked_thin_events?: number } = { ok: true, key_configured: keyConfigured };
  if (parked === null || parked === 0) return check;
  check.parked_thin_events = parked;
  check.warnings = [
    keyConfigured
      ? `${parked} thin event(s) were parked while STRIPE_SECRET_KEY was unset (or STRIPE_API_BASE refused) and wait for a replay: POST /admin/api/replay?status=failed, or Replay in the console.`
      : `${parked} thin event(s) are recorded but parked: their data must be fetched from the Stripe API and STRIPE_SECRET_KEY is not set. Set it (wrangler secret put STRIPE_SECRET_KEY), then replay them (POST /admin/api/replay?status=failed).`,
  ];
  return check;
}

/**
 * The database's size (D1 reports it with every result) against D1_MAX_BYTES: a warning from 80 %,
 * failing from 95 %, because D1 refuses every write once the database is full.
 */
export function sizeCheck(sizeBytes: number | undefined, maxBytes: number | null): Check & { size_bytes?: number; max_bytes?: number } {
  if (sizeBytes === undefined || maxBytes === null) return { ok: true };
  const check: Check & { size_bytes: number; max_bytes: number } = { ok: true, size_bytes: sizeBytes, max_bytes: maxBytes };
  const share = sizeBytes / maxBytes;
  const used = `The database holds ${formatBytes(sizeBytes)}, ${(share * 100).toFixed(1)} % of D1_MAX_BYTES (${formatBytes(maxBytes)}).`;
  const advice = "D1 refuses every write once it is full, and every delivery would then be answered 500: lower LEDGER_RETENTION_DAYS, purge dead events, or see docs/SCALING.md.";
  if (share >= SIZE_FAILING_SHARE) return { ...check, ok: false, message: `${used} ${advice}` };
  if (share >= SIZE_WARNING_SHARE) check.warnings = [`${used} ${advice}`];
  return check;
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
