import type { ConfigProblem } from "./problem";

/** One configured signing secret and, when the entry carries `@<ISO 8601 UTC>`, when it stops verifying. */
export interface WebhookSecret {
  value: string;
  /** Unix ms after which this secret verifies nothing, or null when it never expires. */
  expiresAt: number | null;
}

/**
 * STRIPE_WEBHOOK_SECRET: the secrets that may have signed a delivery, in the order configured, or the
 * problem with them (the list is then empty). Several secrets, comma-separated, let one endpoint URL
 * serve a secret roll (new and old). Whitespace around entries is dropped because it is almost always
 * a copy-paste accident (a trailing newline from `echo`). Never repeats a value.
 *
 * @example
 * readWebhookSecrets("whsec_new,whsec_old@2026-11-24T12:00:00Z").secrets; // [{ value: "whsec_new", expiresAt: null }, …]
 */
export function readWebhookSecrets(raw: string | undefined): { secrets: WebhookSecret[]; problem: ConfigProblem | null } {
  const entries = (raw ?? "").split(",").map((s) => s.trim());
  const refuse = (code: ConfigProblem["code"], message: string) => ({
    secrets: [],
    problem: { variable: "STRIPE_WEBHOOK_SECRET", code, message } as const,
  });
  if (entries.every((s) => s === "")) {
    return refuse(
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
      return refuse(
        "webhook_secret_invalid",
        `Entry ${i + 1} of ${entries.length} in STRIPE_WEBHOOK_SECRET ${what}. ` +
          "Copy the endpoint's signing secret from the Stripe Dashboard " +
          "(Developers → Webhooks → your endpoint → Signing secret) or from `stripe listen`.",
      );
    }
    if (PUBLIC_SECRETS.has(entry.split("@")[0]!.trim())) {
      return refuse(
        "webhook_secret_invalid",
        `Entry ${i + 1} of ${entries.length} in STRIPE_WEBHOOK_SECRET is the local development secret an earlier ` +
          ".dev.vars.example shipped: it is public, so anyone could sign deliveries with it. " +
          "Put the endpoint's own signing secret (npm run stripe:endpoint prints it; locally npm run dev writes a random one).",
      );
    }
    const parsed = parseExpiry(entry);
    if (parsed === null) {
      return refuse(
        "webhook_secret_invalid",
        `Entry ${i + 1} of ${entries.length} in STRIPE_WEBHOOK_SECRET has an expiry after "@" that is not an ISO 8601 UTC time. ` +
          "Write it as whsec_…@2026-11-24T12:00:00Z (the T, seconds and the trailing Z are required; no offsets).",
      );
    }
    secrets.push(parsed);
  }
  return { secrets, problem: null };
}

/** Secrets published in this repository's history: never accepted, wherever they are configured. */
const PUBLIC_SECRETS: ReadonlySet<string> = new Set(["whsec_local_development_secret_change_me"]);

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
