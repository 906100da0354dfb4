import { and, asc, eq, gt } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type Stripe from "stripe";
import { listActiveEntitlements, replaceEntitlements } from "../billing/entitlement-set";
import type { AppliedBy } from "../billing/rows";
import { customers } from "../db/billing-schema";
import type { Database } from "../db/client";

/** Customers one page of the entitlements import asks about: each costs one API request (or more past 100). */
export const ENTITLEMENT_CUSTOMERS_PER_PAGE = 10;

/** One page of the entitlements import: the statements to commit, and where the next page starts. */
export interface EntitlementsPage {
  statements: BatchItem<"sqlite">[];
  /** API requests made. */
  requests: number;
  /** Customers whose set was read. */
  customers: number;
  /** The last customer read (the cursor), or the previous cursor when none was. */
  startingAfter: string | null;
  done: boolean;
}

/**
 * The next page of the entitlements import for one account: no Stripe list spans customers, so the
 * customers already imported into D1 are walked in id order, after `startingAfter`, and each one's
 * active entitlements are listed (`GET /v1/entitlements/active_entitlements?customer=…`, with the
 * account's client) and replace its set under the same ordering rule as the summary events: a
 * summary newer than the import's stamp wins. An account that has defined no feature has no
 * entitlements: its first page asks `GET /v1/entitlements/features` once and is done, instead of
 * asking about every customer.
 *
 * @example
 * const page = await entitlementsPage(db, stripe, null, by, true);
 */
export async function entitlementsPage(
  db: Database,
  stripe: Stripe,
  startingAfter: string | null,
  by: AppliedBy,
  livemode: boolean,
): Promise<EntitlementsPage> {
  let requests = 0;
  if (startingAfter === null) {
    requests++;
    const features = await stripe.entitlements.features.list({ limit: 1 });
    if (features.data.length === 0) return { statements: [], requests, customers: 0, startingAfter, done: true };
  }
  const ids = await db
    .select({ id: customers.id })
    .from(customers)
    .where(
      and(
        eq(customers.account, by.account),
        eq(customers.deleted, false),
        startingAfter === null ? undefined : gt(customers.id, startingAfter),
      ),
    )
    .orderBy(asc(customers.id))
    .limit(ENTITLEMENT_CUSTOMERS_PER_PAGE);
  const statements: BatchItem<"sqlite">[] = [];
  for (const { id } of ids) {
    const entitlements = await listActiveEntitlements(stripe, id);
    requests += Math.max(1, Math.ceil(entitlements.length / 100));
    statements.push(...replaceEntitlements({ db }, { applied: by }, id, entitlements, true, entitlements[0]?.livemode ?? livemode));
  }
  return {
    statements,
    requests,
    customers: ids.length,
    startingAfter: ids.at(-1)?.id ?? startingAfter,
    done: ids.length < ENTITLEMENT_CUSTOMERS_PER_PAGE,
  };
}
