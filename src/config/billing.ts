import type { ConfigVariable } from "./problem";
import type { Read } from "./values";
import { refused } from "./values";

// The variables that shape the billing state: which accounts it covers, how an app's users are
// found, and what grants access.

/**
 * STRIPE_CONNECT_BILLING: `true` lets connected accounts' events (`event.account`, a thin event's
 * context) reach the built-in billing tables and fulfilment hooks, each row kept under its account;
 * `false` (the default) gives them to your own handlers only.
 */
export function readConnectBilling(raw: string | undefined): Read<boolean> {
  return readSwitch("STRIPE_CONNECT_BILLING", raw, false, "whether connected accounts' events reach the built-in billing tables and hooks");
}

/**
 * APP_USER_METADATA_KEY: the metadata key on customers and subscriptions that holds the app's own user
 * id (default `app_user_id`); Checkout Sessions' `client_reference_id` links them too.
 */
export function readAppUserKey(raw: string | undefined): Read<string> {
  const value = (raw ?? "").trim();
  if (value === "") return { value: "app_user_id", problem: null };
  // Stripe's metadata keys: up to 40 characters, no square brackets.
  if (value.length <= 40 && !/[[\]]/.test(value)) return { value, problem: null };
  return {
    value: "app_user_id",
    problem: refused(
      "APP_USER_METADATA_KEY",
      "APP_USER_METADATA_KEY must be a Stripe metadata key: at most 40 characters, no square brackets.",
    ),
  };
}

/**
 * PAST_DUE_GRANTS_ACCESS: whether a `past_due` subscription still grants access (a grace while Stripe
 * retries the payment). Default true, as Stripe's own Customer Portal and most apps treat it.
 */
export function readPastDueGrants(raw: string | undefined): Read<boolean> {
  return readSwitch("PAST_DUE_GRANTS_ACCESS", raw, true, "whether past_due still grants access");
}

/** A `true`/`false` variable (any case, blank for the default); anything else is refused, naming `meaning`. */
function readSwitch(variable: ConfigVariable, raw: string | undefined, byDefault: boolean, meaning: string): Read<boolean> {
  const value = (raw ?? "").trim().toLowerCase();
  if (value === "") return { value: byDefault, problem: null };
  if (value === "true" || value === "false") return { value: value === "true", problem: null };
  return { value: byDefault, problem: refused(variable, `${variable} must be true or false (default ${byDefault}): ${meaning}.`) };
}

/**
 * STRIPE_CONNECT_ACCOUNTS: the connected accounts the backfill and the recovery walk besides the
 * platform: a comma-separated list of `acct_…` ids, or `all` (every account the Accounts list gives);
 * empty: the platform only.
 */
export function readConnectAccounts(raw: string | undefined): Read<readonly string[] | "all"> {
  const value = (raw ?? "").trim();
  if (value === "") return { value: [], problem: null };
  if (value.toLowerCase() === "all") return { value: "all", problem: null };
  const ids = value.split(",").map((s) => s.trim());
  if (ids.every((id) => /^acct_[A-Za-z0-9]+$/.test(id))) return { value: [...new Set(ids)], problem: null };
  return {
    value: [],
    problem: refused(
      "STRIPE_CONNECT_ACCOUNTS",
      "STRIPE_CONNECT_ACCOUNTS must be `all` or a comma-separated list of connected account ids (acct_…); empty: the platform only.",
    ),
  };
}
