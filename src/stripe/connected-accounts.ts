import Stripe from "stripe";
import type { Database } from "../db/client";
import { readJobState, writeJobState } from "../db/job-state";
import { log } from "../log";

/** The job_state key of the Accounts list, as last read for STRIPE_CONNECT_ACCOUNTS=all. */
const ACCOUNTS_KEY = "connect_accounts";
/** How long a read of the Accounts list is used before it is read again. */
const ACCOUNTS_TTL_MS = 60 * 60_000;
/** Pages of 100 read at most per refresh: 10,000 connected accounts. */
const MAX_ACCOUNT_PAGES = 100;

interface SavedAccounts {
  at: number;
  ids: string[];
  /** True when the list had more accounts than MAX_ACCOUNT_PAGES pages. */
  truncated: boolean;
}

/**
 * The connected accounts the backfill and the recovery walk besides the platform
 * (STRIPE_CONNECT_ACCOUNTS): the configured list, or with `all` every account `GET /v1/accounts` lists,
 * read at most hourly (kept in job_state; an hour-old list misses at most an hour of new accounts,
 * whose events are delivered to the Connect endpoint anyway). Empty when none are configured.
 * Throws what the API or D1 throws.
 *
 * @example
 * for (const account of await connectedAccounts(deps.config.connectAccounts, stripe, db, now)) { … }
 */
export async function connectedAccounts(
  configured: readonly string[] | "all",
  stripe: Stripe,
  db: Database,
  nowMs: number,
): Promise<readonly string[]> {
  if (configured !== "all") return configured;
  const saved = await readJobState<SavedAccounts>(db, ACCOUNTS_KEY);
  if (saved && nowMs - saved.at < ACCOUNTS_TTL_MS) return saved.ids;
  const ids: string[] = [];
  let startingAfter: string | undefined;
  let truncated = true;
  for (let page = 0; page < MAX_ACCOUNT_PAGES; page++) {
    const list = await stripe.accounts.list({ limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) });
    ids.push(...list.data.map((a) => a.id));
    if (!list.has_more || list.data.length === 0) {
      truncated = false;
      break;
    }
    startingAfter = list.data.at(-1)!.id;
  }
  if (truncated) log("warn", "connect_accounts_truncated", { walked: ids.length });
  await writeJobState(db, ACCOUNTS_KEY, { at: nowMs, ids, truncated } satisfies SavedAccounts, nowMs);
  return ids;
}

/**
 * The client that calls the API as `account`: `stripe` itself for the platform (`''` or null), else a
 * copy carrying the account's Stripe-Context (same key, same rate budget).
 *
 * @example
 * await clientFor(stripe, "acct_123").subscriptionItems.list({ subscription: "sub_123" });
 */
export function clientFor(stripe: Stripe, account: string | null): Stripe {
  return account ? stripe.withStripeContext(Stripe.StripeContext.parse(account)) : stripe;
}
