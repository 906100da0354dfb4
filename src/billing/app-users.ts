import { sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { type AccessPolicy, type Entitlements, entitlementsFor } from "./entitlements";

/** Where a link between an app user and a customer comes from. */
export type AppUserSource = "customer_metadata" | "subscription_metadata" | "client_reference_id";

/** One app user id and a customer it is linked to, with what links them. */
export interface AppUserLink {
  appUserId: string;
  customerId: string;
  sources: AppUserSource[];
}

/** What an app user is entitled to: its customer's entitlements, or every linked customer's together. */
export interface UserEntitlements extends Omit<Entitlements, "customerId"> {
  appUserId: string;
  /** The one customer the user is linked to; null when it is linked to none or to several. */
  customerId: string | null;
  /** Every (not deleted) customer the user is linked to. */
  customerIds: string[];
  /** True when the user id is linked to more than one customer: the console's customer view shows it. */
  conflict: boolean;
}

/**
 * Every link of an app user id to a customer in an account, from the three places an app user id is
 * read: the customer's metadata, a subscription's metadata (APP_USER_METADATA_KEY) and a Checkout
 * Session's `client_reference_id`. Deleted customers are left out: they no longer stand for the user.
 * Each part reads its own `(account, app user id)` index.
 */
function linksSql(account: string, where: { appUserId?: string; customerId?: string }) {
  const by = (userColumn: string, customerColumn: string) =>
    where.appUserId !== undefined
      ? sql`${sql.raw(userColumn)} = ${where.appUserId}`
      : sql`${sql.raw(customerColumn)} = ${where.customerId} AND ${sql.raw(userColumn)} IS NOT NULL`;
  return sql`SELECT app_user_id AS appUserId, customer_id AS customerId, group_concat(source) AS sources FROM (
      SELECT app_user_id, id AS customer_id, 'customer_metadata' AS source
        FROM customers WHERE account = ${account} AND ${by("app_user_id", "id")}
      UNION SELECT app_user_id, customer_id, 'subscription_metadata'
        FROM subscriptions WHERE account = ${account} AND ${by("app_user_id", "customer_id")}
      UNION SELECT client_reference_id, customer_id, 'client_reference_id'
        FROM checkout_sessions WHERE account = ${account} AND customer_id IS NOT NULL AND ${by("client_reference_id", "customer_id")}
    ) link
    WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.account = ${account} AND c.id = link.customer_id AND c.deleted = 1)
    GROUP BY app_user_id, customer_id ORDER BY customer_id`;
}

type LinkRow = { appUserId: string; customerId: string; sources: string };

function toLinks(rows: LinkRow[]): AppUserLink[] {
  return rows.map((r) => ({ appUserId: r.appUserId, customerId: r.customerId, sources: r.sources.split(",").sort() as AppUserSource[] }));
}

/**
 * The customers an app user id is linked to in an account.
 *
 * @example
 * await linksOfUser(db, "", "user_42"); // [{ appUserId: "user_42", customerId: "cus_123", sources: ["client_reference_id"] }]
 */
export async function linksOfUser(db: Database, account: string, appUserId: string): Promise<AppUserLink[]> {
  return toLinks(await db.all<LinkRow>(linksSql(account, { appUserId })));
}

/**
 * The app user ids a customer is linked to, and every customer each of them is linked to: more than
 * one customer for a user id is a conflict, shown in the console rather than resolved silently.
 *
 * @example
 * const { links, conflicts } = await appUsersOfCustomer(db, "", "cus_123");
 */
export async function appUsersOfCustomer(
  db: Database,
  account: string,
  customerId: string,
): Promise<{ links: AppUserLink[]; conflicts: AppUserLink[] }> {
  const links = toLinks(await db.all<LinkRow>(linksSql(account, { customerId })));
  const users = [...new Set(links.map((l) => l.appUserId))];
  const others = (await Promise.all(users.map((u) => linksOfUser(db, account, u)))).flat();
  return { links, conflicts: others.filter((l) => l.customerId !== customerId) };
}

/**
 * What an app user is entitled to, found through its links (see `linksOfUser`): exactly the
 * customer's entitlements when it is linked to one customer; when linked to several (a conflict),
 * everything any of them is entitled to, with `conflict` set; nothing when linked to none.
 *
 * @example
 * const { entitled, features } = await entitlementsForUser(db, "", "user_42", { pastDueGrantsAccess: true });
 */
export async function entitlementsForUser(
  db: Database,
  account: string,
  appUserId: string,
  policy: AccessPolicy,
): Promise<UserEntitlements> {
  const customerIds = [...new Set((await linksOfUser(db, account, appUserId)).map((l) => l.customerId))];
  const each = await Promise.all(customerIds.map((customerId) => entitlementsFor(db, { account, customerId }, policy)));
  return {
    appUserId,
    customerId: customerIds.length === 1 ? customerIds[0]! : null,
    customerIds,
    conflict: customerIds.length > 1,
    account: account === "" ? null : account,
    entitled: each.some((e) => e.entitled),
    // Deleted customers are not linked: a user's customers are never deleted ones.
    deleted: false,
    subscriptions: each.flatMap((e) => e.subscriptions),
    purchases: each.flatMap((e) => e.purchases),
    features: [...new Set(each.flatMap((e) => e.features))].sort(),
    featuresComplete: each.every((e) => e.featuresComplete),
  };
}
