import { parseSecureUrl, parseStripeApiBase, type StripeApiBase } from "./api-base";
import type { ConfigProblem, ConfigVariable } from "./problem";
import { withWebhookPath } from "./webhook-path";

// The variables with a default or an optional value. Each reader returns the value to use and the
// problem with the raw value, if any; a refused value reads as its default (or null), and the
// problem says so wherever it matters (src/config/index.ts says what each problem stops).

/** A value read from one variable, and why the raw value was refused (null when it was not). */
export interface Read<T> {
  value: T;
  problem: ConfigProblem | null;
}

const DEFAULT_TOLERANCE_SECONDS = 300;
/** Stripe's Events API and `stripe events resend` reach back 30 days; so does the ledger by default. */
const DEFAULT_RETENTION_DAYS = 30;
/** Stripe retries a delivery for up to 3 days: a shorter retention could forget an event it still retries. */
const MIN_RETENTION_DAYS = 3;
/** D1's largest database on the Workers Paid plan, 10 GB. */
const DEFAULT_D1_MAX_BYTES = 10_000_000_000;

const refused = (variable: ConfigVariable, message: string): ConfigProblem => ({ variable, code: "config_invalid", message });

/**
 * A whole-number setting: `fallback` when unset or blank, the number when `accept` takes it, else the
 * fallback and a `config_invalid` problem saying `refusal` (which names the variable, never the value).
 */
function wholeNumber(
  variable: ConfigVariable,
  raw: string | undefined,
  fallback: number,
  accept: (value: number) => boolean,
  refusal: string,
): Read<number> {
  if (raw === undefined || raw.trim() === "") return { value: fallback, problem: null };
  const value = Number(raw.trim());
  return Number.isInteger(value) && accept(value) ? { value, problem: null } : { value: fallback, problem: refused(variable, refusal) };
}

/** STRIPE_WEBHOOK_TOLERANCE_SECONDS: accepted age (and future skew) of a signature timestamp. */
export function readTolerance(raw: string | undefined): Read<number> {
  return wholeNumber(
    "STRIPE_WEBHOOK_TOLERANCE_SECONDS",
    raw,
    DEFAULT_TOLERANCE_SECONDS,
    (value) => value > 0,
    `STRIPE_WEBHOOK_TOLERANCE_SECONDS must be a whole number of seconds greater than 0 (default ${DEFAULT_TOLERANCE_SECONDS}).`,
  );
}

/** LEDGER_RETENTION_DAYS: days a final ledger row is kept; 0 keeps them for ever. */
export function readRetentionDays(raw: string | undefined): Read<number> {
  return wholeNumber(
    "LEDGER_RETENTION_DAYS",
    raw,
    DEFAULT_RETENTION_DAYS,
    (value) => value === 0 || value >= MIN_RETENTION_DAYS,
    `LEDGER_RETENTION_DAYS must be a whole number of days, at least ${MIN_RETENTION_DAYS} ` +
      `(Stripe retries a delivery for up to 3 days), or 0 to keep every event for ever (default ${DEFAULT_RETENTION_DAYS}).`,
  );
}

/** D1_MAX_BYTES: the size D1 refuses writes at. */
export function readD1MaxBytes(raw: string | undefined): Read<number> {
  return wholeNumber(
    "D1_MAX_BYTES",
    raw,
    DEFAULT_D1_MAX_BYTES,
    (value) => Number.isSafeInteger(value) && value > 0,
    `D1_MAX_BYTES must be a whole number of bytes greater than 0 (default ${DEFAULT_D1_MAX_BYTES}, D1's 10 GB limit; ` +
      "500000000 on the Workers Free plan).",
  );
}

/**
 * ALERT_WEBHOOK_URL: unset or blank is null (no alerts); otherwise an `https://` URL, or `http://` only
 * on a loopback address (the URL itself is usually the receiver's secret, as Slack's are).
 */
export function readAlertWebhookUrl(raw: string | undefined): Read<string | null> {
  const value = (raw ?? "").trim();
  if (value === "") return { value: null, problem: null };
  const url = parseSecureUrl(value, "alerts (and the URL's own secret)");
  if (typeof url !== "string") return { value: url.href, problem: null };
  return {
    value: null,
    problem: refused(
      "ALERT_WEBHOOK_URL",
      `ALERT_WEBHOOK_URL ${url}. Set an https:// URL that accepts Slack-style JSON ({"text": …}), e.g. a Slack incoming webhook, ` +
        "or http://127.0.0.1:<port>/… for a local receiver; leave it empty for no alerts.",
    ),
  };
}

/** STRIPE_API_BASE: null when refused (the API key is then never sent anywhere). */
export function readStripeApiBase(raw: string | undefined): Read<StripeApiBase | null> {
  const result = parseStripeApiBase(raw);
  return result.ok ? { value: result.base, problem: null } : { value: null, problem: refused("STRIPE_API_BASE", result.message) };
}

/**
 * WEBHOOK_URL, the URL of this Worker's webhook endpoint, which the daily drift check looks for
 * among the account's endpoints (a Worker learns its own URL only from requests). Given like
 * `npm run stripe:endpoint -- --url`: the Worker's base URL, `/webhooks/stripe` appended unless it is
 * already there. Null when unset (the check then finds the endpoint by the marker stripe:endpoint
 * sets) or refused (the check reports the problem; deliveries never depend on it).
 */
export function readWebhookUrl(raw: string | undefined): Read<string | null> {
  const value = (raw ?? "").trim();
  if (value === "") return { value: null, problem: null };
  const url = URL.parse(value);
  if (url && (url.protocol === "https:" || url.protocol === "http:")) return { value: withWebhookPath(url), problem: null };
  return {
    value: null,
    problem: refused(
      "WEBHOOK_URL",
      "WEBHOOK_URL must be this Worker's URL, e.g. https://stripe-webhooks.<subdomain>.workers.dev (the path /webhooks/stripe is added).",
    ),
  };
}
