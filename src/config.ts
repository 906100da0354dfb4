import { ApiError } from "./errors";
import { parseSecureUrl, parseStripeApiBase, type StripeApiBase } from "./stripe/api-base";
import { withWebhookPath } from "./stripe/endpoint-drift";

/**
 * The Worker's variables and secrets, parsed once per `env` object by `readConfig`: the only place that
 * reads their strings. Every part that can be wrong on its own is its own result, so one wrong value
 * never hides another and stops only what needs it: a wrong setting refuses deliveries (Stripe retries
 * them) and stops the retention, never the re-drive, the alerts or the Stripe API calls.
 */
export interface Config {
  /** STRIPE_WEBHOOK_SECRET: the secrets that may have signed a delivery, in the order configured. */
  webhookSecrets: readonly WebhookSecret[] | ApiError;
  /** Every setting with a default; the first wrong one, named, when any is wrong (`/health`'s `settings`). */
  settings: Settings | ApiError;
  /** What a Stripe API client is made of (STRIPE_SECRET_KEY, STRIPE_API_BASE). */
  stripeApi: StripeApiConfig;
  /** ALERT_WEBHOOK_URL alone, so that the alerts can still report another setting that is wrong. */
  alertWebhookUrl: string | null | ApiError;
  /** WEBHOOK_URL, which the endpoint drift check looks for (see `readWebhookUrl`). */
  webhookUrl: string | null | ApiError;
  /** ADMIN_TOKEN, trimmed; null (unset or blank) disables `/admin`. */
  adminToken: string | null;
}

/**
 * The settings that have defaults. `Config.settings` is also the error of a wrong STRIPE_API_BASE or
 * ALERT_WEBHOOK_URL (whose values live in `stripeApi` and `alertWebhookUrl`): either refuses deliveries.
 */
export interface Settings {
  /** Accepted age of a signature timestamp (and accepted clock skew into the future), seconds. */
  toleranceSeconds: number;
  /** Days a `processed` or `ignored` ledger row is kept; 0 keeps them for ever. */
  retentionDays: number;
  /** The database size D1 refuses writes at, bytes; `/health` warns from 80 % of it. */
  d1MaxBytes: number;
}

/** STRIPE_SECRET_KEY and STRIPE_API_BASE, read apart from the other settings so a wrong tolerance never stops API calls. */
export interface StripeApiConfig {
  /** The key, trimmed; null when unset (the features that need the API are then skipped). */
  key: string | null;
  /** STRIPE_API_BASE, or why it is refused (the key is then never sent anywhere). */
  base: StripeApiBase | ApiError;
}

/** One configured signing secret and, when the entry carries `@<ISO 8601 UTC>`, when it stops verifying. */
export interface WebhookSecret {
  value: string;
  /** Unix ms after which this secret verifies nothing, or null when it never expires. */
  expiresAt: number | null;
}

const DEFAULT_TOLERANCE_SECONDS = 300;
/** Stripe's Events API and `stripe events resend` reach back 30 days; so does the ledger by default. */
const DEFAULT_RETENTION_DAYS = 30;
/** Stripe retries a delivery for up to 3 days: a shorter retention could forget an event it still retries. */
const MIN_RETENTION_DAYS = 3;
/** D1's largest database on the Workers Paid plan, 10 GB. */
const DEFAULT_D1_MAX_BYTES = 10_000_000_000;

type ConfigEnv = Pick<
  Env,
  | "STRIPE_WEBHOOK_SECRET"
  | "STRIPE_WEBHOOK_TOLERANCE_SECONDS"
  | "LEDGER_RETENTION_DAYS"
  | "D1_MAX_BYTES"
  | "STRIPE_API_BASE"
  | "ALERT_WEBHOOK_URL"
  | "STRIPE_SECRET_KEY"
  | "WEBHOOK_URL"
  | "ADMIN_TOKEN"
>;

/**
 * Parses the Worker's variables and secrets. Never throws and never echoes a secret's value: a wrong
 * value comes back as an `ApiError` naming the variable and the position of the bad entry.
 *
 * @example
 * const { stripeApi } = readConfig(env);
 * const stripe = createStripeApi(stripeApi);
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
  const stripeApiBase = readStripeApiBase(env);
  const alertWebhookUrl = readAlertWebhookUrl(env);
  const adminToken = (env.ADMIN_TOKEN ?? "").trim();
  return {
    webhookSecrets: readWebhookSecrets(env),
    settings: readSettings(env, stripeApiBase, alertWebhookUrl),
    stripeApi: { key: env.STRIPE_SECRET_KEY?.trim() || null, base: stripeApiBase },
    alertWebhookUrl,
    webhookUrl: readWebhookUrl(env),
    adminToken: adminToken === "" ? null : adminToken,
  };
}

/**
 * The secrets and the settings when both are right: what a delivery needs, and what the retention
 * waits for (it could delete too much on a wrong setting). Otherwise the first problem, the secrets'
 * before the settings'.
 *
 * @example
 * const valid = validConfig(readConfig(env));
 * if (valid instanceof ApiError) throw valid;
 */
export function validConfig(config: Config): { webhookSecrets: readonly WebhookSecret[]; settings: Settings } | ApiError {
  if (config.webhookSecrets instanceof ApiError) return config.webhookSecrets;
  if (config.settings instanceof ApiError) return config.settings;
  return { webhookSecrets: config.webhookSecrets, settings: config.settings };
}

function readSettings(
  env: Pick<Env, "STRIPE_WEBHOOK_TOLERANCE_SECONDS" | "LEDGER_RETENTION_DAYS" | "D1_MAX_BYTES">,
  stripeApiBase: StripeApiBase | ApiError,
  alertWebhookUrl: string | null | ApiError,
): Settings | ApiError {
  const toleranceSeconds = parseTolerance(env.STRIPE_WEBHOOK_TOLERANCE_SECONDS);
  if (toleranceSeconds instanceof ApiError) return toleranceSeconds;
  const retentionDays = parseRetentionDays(env.LEDGER_RETENTION_DAYS);
  if (retentionDays instanceof ApiError) return retentionDays;
  const d1MaxBytes = parseD1MaxBytes(env.D1_MAX_BYTES);
  if (d1MaxBytes instanceof ApiError) return d1MaxBytes;
  if (stripeApiBase instanceof ApiError) return stripeApiBase;
  if (alertWebhookUrl instanceof ApiError) return alertWebhookUrl;
  return { toleranceSeconds, retentionDays, d1MaxBytes };
}

/**
 * ALERT_WEBHOOK_URL: unset or blank is null (no alerts); otherwise an `https://` URL, or `http://` only
 * on a loopback address (the URL itself is usually the receiver's secret, as Slack's are). Never
 * repeats the value.
 */
function readAlertWebhookUrl(env: Pick<Env, "ALERT_WEBHOOK_URL">): string | null | ApiError {
  const raw = (env.ALERT_WEBHOOK_URL ?? "").trim();
  if (raw === "") return null;
  const refuse = (why: string) =>
    new ApiError(
      "config_invalid",
      `ALERT_WEBHOOK_URL ${why}. Set an https:// URL that accepts Slack-style JSON ({"text": …}), e.g. a Slack incoming webhook, ` +
        "or http://127.0.0.1:<port>/… for a local receiver; leave it empty for no alerts.",
    );
  const url = parseSecureUrl(raw, "alerts (and the URL's own secret)");
  return typeof url === "string" ? refuse(url) : url.href;
}

/** STRIPE_API_BASE: a refused base is a `config_invalid` ApiError naming the variable, never repeating its value. */
function readStripeApiBase(env: Pick<Env, "STRIPE_API_BASE">): StripeApiBase | ApiError {
  const result = parseStripeApiBase(env.STRIPE_API_BASE);
  return result.ok ? result.base : new ApiError("config_invalid", result.message);
}

/**
 * STRIPE_WEBHOOK_SECRET (`/health` reports it apart from the other settings). Several secrets,
 * comma-separated, let one endpoint URL serve a secret roll (new and old), test and live mode, or an
 * account and a Connect endpoint. Whitespace around entries is dropped because it is almost always a
 * copy-paste accident (a trailing newline from `echo`).
 */
function readWebhookSecrets(env: Pick<Env, "STRIPE_WEBHOOK_SECRET">): WebhookSecret[] | ApiError {
  const entries = (env.STRIPE_WEBHOOK_SECRET ?? "").split(",").map((s) => s.trim());
  if (entries.every((s) => s === "")) {
    return new ApiError(
      "webhook_secret_missing",
      "STRIPE_WEBHOOK_SECRET is not set, so no delivery can be verified. " +
        "Set it with `wrangler secret put STRIPE_WEBHOOK_SECRET` (locally: in .dev.vars). " +
        "Stripe retries this delivery, so nothing is lost once it is set.",
    );
  }
  const secrets: WebhookSecret[] = [];
  for (const [i, entry] of entries.entries()) {
    if (!entry.startsWith("whsec_")) {
      const what =
        entry === ""
          ? "is empty (two commas in a row?)"
          : "does not start with whsec_ (an API key such as sk_… or rk_… is not a webhook signing secret)";
      return new ApiError(
        "webhook_secret_invalid",
        `Entry ${i + 1} of ${entries.length} in STRIPE_WEBHOOK_SECRET ${what}. ` +
          "Copy the endpoint's signing secret from the Stripe Dashboard " +
          "(Developers → Webhooks → your endpoint → Signing secret) or from `stripe listen`.",
      );
    }
    const parsed = parseExpiry(entry);
    if (parsed === null) {
      return new ApiError(
        "webhook_secret_invalid",
        `Entry ${i + 1} of ${entries.length} in STRIPE_WEBHOOK_SECRET has an expiry after "@" that is not an ISO 8601 UTC time. ` +
          "Write it as whsec_…@2026-11-24T12:00:00Z (the T, seconds and the trailing Z are required; no offsets).",
      );
    }
    secrets.push(parsed);
  }
  return secrets;
}

// An expiry is the text after the last "@" when it starts like a date (YYYY-MM-DD): a secret's own
// characters are never read as one, and a date-shaped suffix that is not exactly
// YYYY-MM-DDTHH:MM:SS[.sss]Z is refused rather than guessed at, because an expiry that moved silently
// (a missing zone, a rolled-over day) is exactly what an operator must be able to trust.
const DATE_START = /^\d{4}-\d{2}-\d{2}/;
const EXPIRY = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

/** `whsec_…` or `whsec_…@<ISO 8601 UTC>`; null when a date-shaped suffix is not a valid UTC time. */
function parseExpiry(entry: string): WebhookSecret | null {
  const at = entry.lastIndexOf("@");
  const when = at === -1 ? "" : entry.slice(at + 1).trim();
  if (!DATE_START.test(when)) return { value: entry, expiresAt: null };
  const ms = EXPIRY.test(when) ? Date.parse(when) : Number.NaN;
  // Date.parse rolls 2026-02-30 over to March; round-tripping catches impossible dates.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== when.slice(0, 19)) return null;
  return { value: entry.slice(0, at).trim(), expiresAt: ms };
}

/**
 * A whole-number setting: `fallback` when unset or blank, the number when `accept` takes it, else a
 * `config_invalid` ApiError saying `refusal` (which names the variable, never the value).
 */
function wholeNumber(raw: string | undefined, fallback: number, accept: (value: number) => boolean, refusal: string): number | ApiError {
  if (raw === undefined || raw.trim() === "") return fallback;
  const value = Number(raw.trim());
  return Number.isInteger(value) && accept(value) ? value : new ApiError("config_invalid", refusal);
}

function parseTolerance(raw: string | undefined): number | ApiError {
  return wholeNumber(
    raw,
    DEFAULT_TOLERANCE_SECONDS,
    (value) => value > 0,
    `STRIPE_WEBHOOK_TOLERANCE_SECONDS must be a whole number of seconds greater than 0 (default ${DEFAULT_TOLERANCE_SECONDS}).`,
  );
}

function parseRetentionDays(raw: string | undefined): number | ApiError {
  return wholeNumber(
    raw,
    DEFAULT_RETENTION_DAYS,
    (value) => value === 0 || value >= MIN_RETENTION_DAYS,
    `LEDGER_RETENTION_DAYS must be a whole number of days, at least ${MIN_RETENTION_DAYS} ` +
      `(Stripe retries a delivery for up to 3 days), or 0 to keep every event for ever (default ${DEFAULT_RETENTION_DAYS}).`,
  );
}

function parseD1MaxBytes(raw: string | undefined): number | ApiError {
  return wholeNumber(
    raw,
    DEFAULT_D1_MAX_BYTES,
    (value) => Number.isSafeInteger(value) && value > 0,
    `D1_MAX_BYTES must be a whole number of bytes greater than 0 (default ${DEFAULT_D1_MAX_BYTES}, D1's 10 GB limit; ` +
      "500000000 on the Workers Free plan).",
  );
}

/**
 * WEBHOOK_URL, the URL of this Worker's webhook endpoint, which the daily drift check looks for
 * among the account's endpoints (a Worker learns its own URL only from requests). Given like
 * `npm run stripe:endpoint -- --url`: the Worker's base URL, `/webhooks/stripe` appended unless it is
 * already there. Null when unset (the check then finds the endpoint by the marker stripe:endpoint
 * sets). A malformed value is an ApiError for the check to report; it never affects deliveries.
 */
function readWebhookUrl(env: Pick<Env, "WEBHOOK_URL">): string | null | ApiError {
  const raw = (env.WEBHOOK_URL ?? "").trim();
  if (raw === "") return null;
  let url: URL | null = null;
  try {
    url = new URL(raw);
  } catch {
    // not an absolute URL: refused below
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    return new ApiError(
      "config_invalid",
      "WEBHOOK_URL must be this Worker's URL, e.g. https://stripe-webhooks.<subdomain>.workers.dev (the path /webhooks/stripe is added).",
    );
  }
  return withWebhookPath(url);
}
