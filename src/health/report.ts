import { blocksDeliveries, type Config, problemWith } from "../config";
import type { Database } from "../db/client";
import { readAttention } from "../db/ledger/attention";
import { ENDPOINT_CHECK_STATE, type EndpointCheckState } from "../endpoint-check/check";
import { errorName, log } from "../log";
import { capacityCheck } from "./capacity";
import { type Check, endpointCheck, secretCheck, sizeCheck, stripeApiCheck } from "./checks";

/** Why a Worker cannot verify or record deliveries, in one stable code: the first failing check's. */
export type HealthCode = "webhook_secret_missing" | "webhook_secret_invalid" | "config_invalid" | "storage_unavailable" | "database_full";

/** The operator's health report: `ok` when the Worker can verify and record deliveries, the first failure's `code`, and each check. */
export interface HealthReport {
  ok: boolean;
  code: HealthCode | null;
  checks: {
    webhook_secret: ReturnType<typeof secretCheck>;
    settings: Check;
    database: ReturnType<typeof sizeCheck>;
    stripe_api: ReturnType<typeof stripeApiCheck>;
    endpoint: ReturnType<typeof endpointCheck>;
    capacity: ReturnType<typeof capacityCheck>;
  };
}

/**
 * Every check, from the configuration and one D1 query (`readAttention`), which proves D1 answers on
 * the current schema, counts parked thin events and reads the last endpoint drift check (saved by the
 * cron, so this never calls Stripe). Counts, sizes, positions and variable names, never a secret's
 * value. Never throws: a D1 failure is the `database` check's. Only operators see it (the admin API
 * and the console); `GET /health` says `ok` or the code (src/health/public.ts).
 *
 * @example
 * const report = await healthReport(deps.config, deps.db, deps.now());
 */
export async function healthReport(config: Config, db: Database, nowMs: number): Promise<HealthReport> {
  const secretProblem = problemWith(config, "STRIPE_WEBHOOK_SECRET");
  const webhookSecret = secretProblem
    ? { ok: false, configured: 0, message: `${secretProblem.code}: ${secretProblem.message}` }
    : secretCheck(config.webhookSecrets, nowMs);
  const settingsProblem = config.problems.find((p) => p.variable !== "STRIPE_WEBHOOK_SECRET" && blocksDeliveries(p));
  // A problem that does not stop deliveries (ADMIN_TOKEN; WEBHOOK_URL is the endpoint check's) is a warning.
  const advisory = config.problems.filter((p) => p.variable === "ADMIN_TOKEN").map((p) => p.message);
  const settings: Check = settingsProblem ? { ok: false, message: `${settingsProblem.code}: ${settingsProblem.message}` } : { ok: true };
  if (advisory.length > 0) settings.warnings = advisory;
  const maxBytes = problemWith(config, "D1_MAX_BYTES") ? null : config.d1MaxBytes;

  let parked: number | null = null;
  let endpoint: EndpointCheckState | null = null;
  let unreachable = false;
  const database = await readAttention(db, ENDPOINT_CHECK_STATE)
    .then((readings) => {
      parked = readings.parkedThin;
      endpoint = readings.saved as EndpointCheckState | null;
      return sizeCheck(readings.sizeBytes, maxBytes);
    })
    .catch((err: unknown): Check => {
      unreachable = true;
      log("error", "health_database_failed", { error: errorName(err) });
      return {
        ok: false,
        message:
          "D1 (binding DB) did not answer a query on stripe_events: " +
          "is the database bound and are migrations applied (npm run db:migrate:local / db:migrate:remote)?",
      };
    });

  const code: HealthCode | null = secretProblem
    ? secretProblem.code
    : !webhookSecret.ok
      ? "webhook_secret_invalid"
      : settingsProblem
        ? "config_invalid"
        : !database.ok
          ? unreachable
            ? "storage_unavailable"
            : "database_full"
          : null;
  return {
    ok: code === null,
    code,
    checks: {
      webhook_secret: webhookSecret,
      settings,
      database,
      stripe_api: stripeApiCheck(config.stripeApi.key !== null, parked),
      endpoint: endpointCheck(endpoint),
      capacity: capacityCheck(config),
    },
  };
}
