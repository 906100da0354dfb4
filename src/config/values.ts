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
/**
 * The longest tolerance accepted: a captured delivery verifies for this long, and it must stay far
 * below the shortest retention (3 days), after which the ledger no longer remembers the event's id.
 */
const MAX_TOLERANCE_SECONDS = 3600;
/** Stripe's Events API and `stripe events resend` reach back 30 days; so does the ledger by default. */
const DEFAULT_RETENTION_DAYS = 30;
/**
 * With the R2 archive bound, older events stay reachable there, so the ledger keeps a week: seven times
 * the events a month fit in one database (docs/SCALING.md), and still more than Stripe's 3 days of retries.
 */
const DEFAULT_ARCHIVED_RETENTION_DAYS = 7;
/** Stripe retries a delivery for up to 3 days: a shorter retention could forget an event it still retries. */
const MIN_RETENTION_DAYS = 3;
/** D1's largest database on the Workers Paid plan, 10 GB. */
const DEFAULT_D1_MAX_BYTES = 10_000_000_000;

export const refused = (variable: ConfigVariable, message: string): ConfigProblem => ({ variable, code: "config_invalid", message });

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
    (value) => value > 0 && value <= MAX_TOLERANCE_SECONDS,
    `STRIPE_WEBHOOK_TOLERANCE_SECONDS must be a whole number of seconds from 1 to ${MAX_TOLERANCE_SECONDS} ` +
      `(default ${DEFAULT_TOLERANCE_SECONDS}): a longer one would let a captured delivery be replayed for longer.`,
  );
}

/**
 * LEDGER_RETENTION_DAYS: days a final ledger row is kept; 0 keeps them for ever. Unset, 7 when the
 * ARCHIVE bucket is bound (`archived`), 30 when it is not.
 */
export function readRetentionDays(raw: string | undefined, archived = false): Read<number> {
  const fallback = archived ? DEFAULT_ARCHIVED_RETENTION_DAYS : DEFAULT_RETENTION_DAYS;
  return wholeNumber(
    "LEDGER_RETENTION_DAYS",
    raw,
    fallback,
    (value) => value === 0 || value >= MIN_RETENTION_DAYS,
    `LEDGER_RETENTION_DAYS must be a whole number of days, at least ${MIN_RETENTION_DAYS} ` +
      `(Stripe retries a delivery for up to 3 days), or 0 to keep every event for ever ` +
      `(default ${DEFAULT_RETENTION_DAYS}, or ${DEFAULT_ARCHIVED_RETENTION_DAYS} with the ARCHIVE bucket bound).`,
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

/** Stripe's read limit in sandboxes is 25 requests a second (100 live): the default stays well under both. */
const DEFAULT_STRIPE_API_RATE = 10;
const MAX_STRIPE_API_RATE = 1000;

/**
 * STRIPE_API_RATE: the requests a second this Worker makes to the Stripe API, all invocations together
 * (the consumer's thin event fetches, the recoveries, the backfill, the drift check share it).
 */
export function readStripeApiRate(raw: string | undefined): Read<number> {
  return wholeNumber(
    "STRIPE_API_RATE",
    raw,
    DEFAULT_STRIPE_API_RATE,
    (value) => value >= 1 && value <= MAX_STRIPE_API_RATE,
    `STRIPE_API_RATE must be a whole number of requests per second from 1 to ${MAX_STRIPE_API_RATE} (default ${DEFAULT_STRIPE_API_RATE}; ` +
      "Stripe allows 25 a second in sandboxes and 100 in live mode, shared with everything else that uses your key).",
  );
}

/** Which Stripe mode a deployment serves: its events are processed, the other mode's are recorded and ignored. */
export type StripeMode = "live" | "test";

/**
 * STRIPE_MODE: required, `live` or `test`. Null when unset or refused: deliveries are then refused
 * (Stripe retries them) rather than processed under a guess.
 */
export function readStripeMode(raw: string | undefined): Read<StripeMode | null> {
  const value = (raw ?? "").trim().toLowerCase();
  if (value === "live" || value === "test") return { value, problem: null };
  const what = value === "" ? "is not set" : "must be live or test";
  return {
    value: null,
    problem: refused(
      "STRIPE_MODE",
      `STRIPE_MODE ${what}: the mode whose events this Worker processes (events of the other mode are recorded and ignored). ` +
        "Set it to live on the Worker your live endpoint posts to and test on a staging one " +
        "(npx wrangler secret put STRIPE_MODE; locally npm run dev writes test into .dev.vars).",
    ),
  };
}

/** The shortest ADMIN_TOKEN accepted: 32 characters of `openssl rand -hex 32` cannot be guessed. */
const MIN_ADMIN_TOKEN_LENGTH = 32;

/**
 * ADMIN_TOKEN, trimmed: null (unset or blank) disables `/admin`. A shorter one than 32 characters is
 * refused: `/admin` answers `config_invalid` until it is replaced (deliveries are not affected).
 */
export function readAdminToken(raw: string | undefined): Read<string | null> {
  const value = (raw ?? "").trim();
  if (value === "") return { value: null, problem: null };
  if (value.length >= MIN_ADMIN_TOKEN_LENGTH) return { value, problem: null };
  return {
    value: null,
    problem: refused(
      "ADMIN_TOKEN",
      `ADMIN_TOKEN is shorter than ${MIN_ADMIN_TOKEN_LENGTH} characters, so the admin API and console stay closed. ` +
        "Set a random one: openssl rand -hex 32 | npx wrangler secret put ADMIN_TOKEN (locally: in .dev.vars).",
    ),
  };
}

/**
 * STRIPE_SECRET_KEY, trimmed (null when unset), and whether its mode contradicts STRIPE_MODE: a
 * `sk_test_`/`rk_test_` key on a live Worker (or a live key on a test one) would fetch, recover and
 * backfill the other mode's objects into this mode's tables. Keys without a mode prefix (a local
 * stand-in's) are taken as they are.
 */
export function readStripeSecretKey(raw: string | undefined, mode: StripeMode | null): Read<string | null> {
  const value = (raw ?? "").trim();
  if (value === "") return { value: null, problem: null };
  const keyMode = /^[sr]k_(test|live)_/.exec(value)?.[1];
  if (mode === null || keyMode === undefined || keyMode === mode) return { value, problem: null };
  return {
    value,
    problem: refused(
      "STRIPE_SECRET_KEY",
      `STRIPE_SECRET_KEY is a ${keyMode}-mode key, but STRIPE_MODE is ${mode}: it would read the other mode's objects. ` +
        `Put a ${mode}-mode key (wrangler secret put STRIPE_SECRET_KEY), or correct STRIPE_MODE.`,
    ),
  };
}
