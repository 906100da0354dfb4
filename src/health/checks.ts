import type { WebhookSecret } from "../config";
import type { EndpointCheckState } from "../endpoint-check/check";

// The checks `/health` reports (src/routes/health.ts), which the alerts (src/alerts/conditions.ts)
// send too: pure functions of what the route or the cron has read.

/** How long before a secret's expiry `/health` starts warning: a day leaves time to finish the roll. */
const EXPIRY_WARNING_MS = 24 * 60 * 60_000;
/** Share of D1_MAX_BYTES at which `/health` warns, and at which it fails (deliveries will soon be refused). */
const SIZE_WARNING_SHARE = 0.8;
const SIZE_FAILING_SHARE = 0.95;

/** One entry of `/health`'s `checks`: healthy or not, why not, and what to act on before it fails. */
export interface Check {
  ok: boolean;
  message?: string;
  warnings?: string[];
}

/**
 * The last endpoint drift check, as saved: always `ok` (drift loses events Stripe never sends, but
 * this Worker still verifies and records everything it gets, so it is never a 503), with its
 * `warnings` (handled types not enabled, a disabled endpoint, another API version, no endpoint found,
 * a failed check) and `info` (enabled types no handler uses), each present only when non-empty.
 * `last_checked_at` is null until the first check (it needs STRIPE_SECRET_KEY).
 */
export function endpointCheck(
  saved: EndpointCheckState | null,
): Check & { last_checked_at: string | null; endpoints?: string[]; info?: string[] } {
  if (!saved) return { ok: true, last_checked_at: null };
  const { report } = saved;
  const check: Check & { last_checked_at: string; endpoints: string[]; info?: string[] } = {
    ok: true,
    last_checked_at: report.checked_at,
    endpoints: report.endpoints.map((e) => e.id),
  };
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
    if (expiresAt <= nowMs)
      warnings.push(`Entry ${i + 1} of ${secrets.length} in STRIPE_WEBHOOK_SECRET expired at ${at} and verifies nothing: remove it.`);
    else if (expiresAt - nowMs <= EXPIRY_WARNING_MS)
      warnings.push(`Entry ${i + 1} of ${secrets.length} in STRIPE_WEBHOOK_SECRET expires at ${at}: finish the roll before then.`);
  }
  const check: Check & { configured: number } =
    usable > 0
      ? { ok: true, configured: secrets.length }
      : {
          ok: false,
          configured: secrets.length,
          message:
            "webhook_secret_invalid: every entry in STRIPE_WEBHOOK_SECRET has expired, so no delivery can be verified. " +
            "Put the current signing secret with `wrangler secret put STRIPE_WEBHOOK_SECRET`.",
        };
  if (warnings.length > 0) check.warnings = warnings;
  return check;
}

/**
 * Whether STRIPE_SECRET_KEY is set (`keyConfigured`), and a warning naming it while thin events are parked (`parked`
 * is null when D1 did not answer). Never fails the health check: deliveries are still verified and
 * recorded without a key.
 */
export function stripeApiCheck(
  keyConfigured: boolean,
  parked: number | null,
): Check & { key_configured: boolean; parked_thin_events?: number } {
  const check: Check & { key_configured: boolean; parked_thin_events?: number } = { ok: true, key_configured: keyConfigured };
  if (parked === null || parked === 0) return check;
  check.parked_thin_events = parked;
  check.warnings = [
    keyConfigured
      ? `${parked} thin event(s) were parked while STRIPE_SECRET_KEY was unset (or STRIPE_API_BASE refused) and wait for a replay: ` +
        "POST /admin/api/replay?status=failed, or Replay in the console."
      : `${parked} thin event(s) are recorded but parked: ` +
        "their data must be fetched from the Stripe API and STRIPE_SECRET_KEY is not set. " +
        "Set it (wrangler secret put STRIPE_SECRET_KEY), then replay them (POST /admin/api/replay?status=failed).",
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
  const advice =
    "D1 refuses every write once it is full, and every delivery would then be answered 500: " +
    "lower LEDGER_RETENTION_DAYS, purge dead events, or see docs/SCALING.md.";
  if (share >= SIZE_FAILING_SHARE) return { ...check, ok: false, message: `${used} ${advice}` };
  if (share >= SIZE_WARNING_SHARE) check.warnings = [`${used} ${advice}`];
  return check;
}

function formatBytes(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}
