import type { StripeApiBase } from "./api-base";
import { readAppUserKey, readConnectAccounts, readConnectBilling, readPastDueGrants } from "./billing";
import type { ConfigProblem, ConfigVariable } from "./problem";
import { readWebhookSecrets, type WebhookSecret } from "./secrets";
import {
  readAdminToken,
  readAlertWebhookUrl,
  readD1MaxBytes,
  readRetentionDays,
  readStripeApiBase,
  readStripeApiRate,
  readStripeMode,
  readStripeSecretKey,
  readTolerance,
  readWebhookUrl,
  type StripeMode,
} from "./values";

export type { ConfigProblem, ConfigVariable } from "./problem";
export { problemError } from "./problem";
export type { WebhookSecret } from "./secrets";
export type { StripeMode } from "./values";

/**
 * The Worker's variables and secrets as plain values, parsed once per `env` object by `readConfig`:
 * the only place that reads their strings. A refused value reads as its default (or empty, or null)
 * and is listed in `problems`, so one wrong value never hides another and each part of the Worker
 * asks only about what it needs: a problem with the secrets or a setting refuses deliveries (Stripe
 * retries them) and stops the retention; it never stops the re-drive, the alerts or the API calls.
 */
export interface Config {
  /** STRIPE_WEBHOOK_SECRET: the secrets that may have signed a delivery, in the order configured. */
  webhookSecrets: readonly WebhookSecret[];
  /** STRIPE_MODE: the mode whose events are processed; null when unset or refused (deliveries are then refused). */
  stripeMode: StripeMode | null;
  /** Accepted age of a signature timestamp (and accepted clock skew into the future), seconds. */
  toleranceSeconds: number;
  /** Days a `processed` or `ignored` ledger row is kept; 0 keeps them for ever. */
  retentionDays: number;
  /** Whether the ARCHIVE R2 bucket is bound: retention then moves final events to it before deleting them. */
  archive: boolean;
  /** The database size D1 refuses writes at, bytes; `/health` warns from 80 % of it. */
  d1MaxBytes: number;
  /** What a Stripe API client is made of (STRIPE_SECRET_KEY, STRIPE_API_BASE). */
  stripeApi: StripeApiConfig;
  /** STRIPE_API_RATE: Stripe API requests a second, every invocation together. */
  stripeApiRate: number;
  /** STRIPE_CONNECT_BILLING: whether connected accounts' events reach the built-in billing tables and hooks. */
  connectBilling: boolean;
  /** STRIPE_CONNECT_ACCOUNTS: the connected accounts the backfill and recovery walk, or `all`. */
  connectAccounts: readonly string[] | "all";
  /** APP_USER_METADATA_KEY: the metadata key holding the app's user id. */
  appUserMetadataKey: string;
  /** PAST_DUE_GRANTS_ACCESS: whether a past_due subscription still grants access. */
  pastDueGrantsAccess: boolean;
  /** ALERT_WEBHOOK_URL; null when unset (no alerts) or refused. */
  alertWebhookUrl: string | null;
  /** WEBHOOK_URL, which the endpoint drift check looks for; null when unset or refused. */
  webhookUrl: string | null;
  /** ADMIN_TOKEN, trimmed; null when unset or blank (`/admin` is disabled) or refused (`/admin` answers config_invalid). */
  adminToken: string | null;
  /** Every refused value, in the order above: each names its variable and how to fix it. */
  problems: readonly ConfigProblem[];
}

/** STRIPE_SECRET_KEY and STRIPE_API_BASE. */
export interface StripeApiConfig {
  /** The key, trimmed; null when unset (the features that need the API are then skipped). */
  key: string | null;
  /** STRIPE_API_BASE; null when refused (the key is then never sent anywhere). */
  base: StripeApiBase | null;
}

/** The variables and secrets as strings; ARCHIVE, a binding, only for whether it is there. */
type ConfigEnv = Partial<Record<ConfigVariable, string>> & { ARCHIVE?: unknown };

/**
 * Parses the Worker's variables and secrets. Never throws and never echoes a secret's value.
 *
 * @example
 * const config = readConfig(env);
 * const problem = deliveryProblem(config);
 */
export function readConfig(env: ConfigEnv): Config {
  // An isolate's `env` does not change while it lives (a new secret or var is a new deployment), so
  // it is parsed once per env object, not on every delivery.
  let config = parsed.get(env);
  if (!config) {
    config = parseConfig(env);
    parsed.set(env, config);
  }
  return config;
}

const parsed = new WeakMap<object, Config>();

function parseConfig(env: ConfigEnv): Config {
  const secrets = readWebhookSecrets(env.STRIPE_WEBHOOK_SECRET);
  const mode = readStripeMode(env.STRIPE_MODE);
  const archive = env.ARCHIVE !== undefined && env.ARCHIVE !== null;
  // Each setting as read: its value and its problem, in the order problems are listed.
  const reads = {
    stripeMode: mode,
    toleranceSeconds: readTolerance(env.STRIPE_WEBHOOK_TOLERANCE_SECONDS),
    retentionDays: readRetentionDays(env.LEDGER_RETENTION_DAYS, archive),
    d1MaxBytes: readD1MaxBytes(env.D1_MAX_BYTES),
    stripeApiBase: readStripeApiBase(env.STRIPE_API_BASE),
    stripeApiKey: readStripeSecretKey(env.STRIPE_SECRET_KEY, mode.value),
    stripeApiRate: readStripeApiRate(env.STRIPE_API_RATE),
    connectBilling: readConnectBilling(env.STRIPE_CONNECT_BILLING),
    connectAccounts: readConnectAccounts(env.STRIPE_CONNECT_ACCOUNTS),
    appUserMetadataKey: readAppUserKey(env.APP_USER_METADATA_KEY),
    pastDueGrantsAccess: readPastDueGrants(env.PAST_DUE_GRANTS_ACCESS),
    alertWebhookUrl: readAlertWebhookUrl(env.ALERT_WEBHOOK_URL),
    webhookUrl: readWebhookUrl(env.WEBHOOK_URL),
    adminToken: readAdminToken(env.ADMIN_TOKEN),
  };
  const { stripeApiBase, stripeApiKey, ...plain } = reads;
  const values = Object.fromEntries(Object.entries(plain).map(([name, read]) => [name, read.value])) as {
    [K in keyof typeof plain]: (typeof plain)[K]["value"];
  };
  return {
    ...values,
    webhookSecrets: secrets.secrets,
    stripeApi: { key: stripeApiKey.value, base: stripeApiBase.value },
    archive,
    problems: [secrets, ...Object.values(reads)].flatMap((r) => (r.problem ? [r.problem] : [])),
  };
}

/**
 * Variables whose problems never stop deliveries: WEBHOOK_URL only steers the drift check (which
 * reports its problem itself); a refused ADMIN_TOKEN closes `/admin`, which answers with its problem.
 */
const ADVISORY: ReadonlySet<ConfigVariable> = new Set(["WEBHOOK_URL", "ADMIN_TOKEN"]);

/**
 * Whether a problem refuses deliveries (see `deliveryProblem`).
 *
 * @example
 * config.problems.filter(blocksDeliveries);
 */
export function blocksDeliveries(problem: ConfigProblem): boolean {
  return !ADVISORY.has(problem.variable);
}

/**
 * The first problem that refuses deliveries and stops the retention (which could delete too much on
 * a wrong setting), the secrets' before the settings'; null when there is none.
 *
 * @example
 * const problem = deliveryProblem(c.var.deps.config);
 * if (problem) throw problemError(problem);
 */
export function deliveryProblem(config: Config): ConfigProblem | null {
  return config.problems.find(blocksDeliveries) ?? null;
}

/**
 * The problem with one variable, or null.
 *
 * @example
 * problemWith(config, "STRIPE_API_BASE")?.message;
 */
export function problemWith(config: Config, variable: ConfigVariable): ConfigProblem | null {
  return config.problems.find((p) => p.variable === variable) ?? null;
}
