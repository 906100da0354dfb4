import type Stripe from "stripe";
import type {
  charges,
  checkoutSessions,
  customers,
  invoices,
  paymentIntents,
  prices,
  products,
  SubscriptionItem,
  subscriptions,
} from "../db/billing-schema";

/** The event an object arrived with, and where it belongs: its `created` orders writes to the object's row. */
export interface AppliedBy {
  eventId: string;
  eventCreated: number;
  nowMs: number;
  /** The connected account the object belongs to, `''` for the platform's own. */
  account: string;
  /** The metadata key holding the app's own user id (APP_USER_METADATA_KEY). */
  appUserKey: string;
}

export type Projected = { account: string; livemode: boolean; lastEventCreated: number; lastEventId: string; updatedAt: number };

function projected(object: { livemode?: boolean }, by: AppliedBy): Projected {
  return {
    account: by.account,
    livemode: object.livemode === true,
    lastEventCreated: by.eventCreated,
    lastEventId: by.eventId,
    updatedAt: by.nowMs,
  };
}

/** The id of an expandable field, whether Stripe sent the id or the expanded object. */
function idOf(field: string | { id: string } | null | undefined): string | null {
  if (field === null || field === undefined) return null;
  return typeof field === "string" ? field : field.id;
}

/** The app's user id in an object's metadata, or null. */
function appUserOf(object: { metadata?: Stripe.Metadata | null }, by: AppliedBy): string | null {
  const value = object.metadata?.[by.appUserKey];
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

/**
 * The customer an object belongs to: its `customer` (`cus_…`), or, for Accounts v2, its
 * `customer_account` (an `acct_…` acting as the customer), kept in the same column and found the same way.
 */
export function customerOf(object: { customer?: string | { id: string } | null; customer_account?: string | null }): string | null {
  return idOf(object.customer) ?? object.customer_account ?? null;
}

/** One subscription item as the `items` column keeps it. */
export function itemOf(i: Stripe.SubscriptionItem): SubscriptionItem {
  const price = i.price as Stripe.Price | string | null | undefined;
  return {
    id: i.id,
    priceId: idOf(price),
    productId: typeof price === "object" && price !== null ? idOf(price.product as string | { id: string }) : null,
    quantity: i.quantity ?? null,
  };
}

/**
 * Maps Stripe objects to table rows. Field names are those of Stripe's OpenAPI fixtures for the
 * current API version; where the API moved a field (current_period_end to subscription items, an
 * invoice's subscription to `parent.subscription_details`) the older place is read as a fallback,
 * because events keep the API version of the endpoint that produced them.
 */
export const rows = {
  customer(c: Stripe.Customer | Stripe.DeletedCustomer, by: AppliedBy, deleted = false): typeof customers.$inferInsert & Projected {
    const live = c as Partial<Stripe.Customer>;
    return {
      id: c.id,
      email: live.email ?? null,
      name: live.name ?? null,
      deleted: deleted || c.deleted === true,
      appUserId: appUserOf(live, by),
      ...projected(live, by),
    };
  },

  /**
   * `items` are the event's items unless `allItems` (listed to the end from the API) is given; without
   * it, a subscription whose list says `has_more` is kept with `itemsComplete` false.
   */
  subscription(
    s: Stripe.Subscription,
    by: AppliedBy,
    options: { canceled?: boolean; allItems?: Stripe.SubscriptionItem[] } = {},
  ): typeof subscriptions.$inferInsert & Projected {
    const listed = s.items?.data ?? [];
    const items = options.allItems ?? listed;
    const periodEnds = items
      .map((i) => (i as { current_period_end?: number }).current_period_end)
      .filter((v): v is number => typeof v === "number");
    const legacyPeriodEnd = (s as { current_period_end?: number }).current_period_end;
    return {
      id: s.id,
      customerId: customerOf(s as { customer?: string | { id: string } | null; customer_account?: string | null }) ?? "",
      status: options.canceled ? "canceled" : s.status,
      priceIds: JSON.stringify(items.map((i) => idOf(i.price)).filter((v) => v !== null)),
      items: JSON.stringify(items.map(itemOf)),
      itemsComplete: options.allItems !== undefined || s.items?.has_more !== true,
      currentPeriodEnd: periodEnds.length > 0 ? Math.max(...periodEnds) : (legacyPeriodEnd ?? null),
      cancelAtPeriodEnd: s.cancel_at_period_end === true,
      cancelAt: s.cancel_at ?? null,
      canceledAt: s.canceled_at ?? null,
      trialEnd: s.trial_end ?? null,
      appUserId: appUserOf(s, by),
      ...projected(s, by),
    };
  },

  checkoutSession(s: Stripe.Checkout.Session, by: AppliedBy): typeof checkoutSessions.$inferInsert & Projected {
    return {
      id: s.id,
      customerId: customerOf(s as { customer?: string | { id: string } | null; customer_account?: string | null }),
      mode: s.mode,
      status: s.status ?? null,
      paymentStatus: s.payment_status,
      subscriptionId: idOf(s.subscription),
      paymentIntentId: idOf(s.payment_intent),
      clientReferenceId: s.client_reference_id ?? null,
      amountTotal: s.amount_total ?? null,
      currency: s.currency ?? null,
      ...projected(s, by),
    };
  },

  invoice(i: Stripe.Invoice, by: AppliedBy): typeof invoices.$inferInsert & Projected {
    return {
      id: i.id ?? "",
      customerId: customerOf(i as { customer?: string | { id: string } | null; customer_account?: string | null }),
      subscriptionId: invoiceSubscriptionId(i),
      status: i.status ?? null,
      amountPaid: i.amount_paid,
      amountDue: i.amount_due,
      currency: i.currency,
      attemptCount: i.attempt_count ?? 0,
      ...projected(i, by),
    };
  },

  paymentIntent(p: Stripe.PaymentIntent, by: AppliedBy): typeof paymentIntents.$inferInsert & Projected {
    const error = p.last_payment_error;
    return {
      id: p.id,
      customerId: customerOf(p as { customer?: string | { id: string } | null; customer_account?: string | null }),
      status: p.status,
      amount: p.amount,
      amountReceived: p.amount_received,
      currency: p.currency,
      lastError: error ? [error.code, error.message].filter(Boolean).join(": ") || "payment failed" : null,
      ...projected(p, by),
    };
  },

  charge(c: Stripe.Charge, by: AppliedBy): typeof charges.$inferInsert & Projected {
    return {
      id: c.id,
      customerId: customerOf(c as { customer?: string | { id: string } | null; customer_account?: string | null }),
      paymentIntentId: idOf(c.payment_intent),
      status: c.status,
      amount: c.amount,
      amountRefunded: c.amount_refunded,
      refunded: c.refunded,
      currency: c.currency,
      ...projected(c, by),
    };
  },

  product(p: Stripe.Product | Stripe.DeletedProduct, by: AppliedBy, deleted = false): typeof products.$inferInsert & Projected {
    const live = p as Partial<Stripe.Product>;
    return {
      id: p.id,
      name: live.name ?? "",
      active: live.active === true && !deleted,
      deleted: deleted || p.deleted === true,
      defaultPriceId: idOf(live.default_price as string | { id: string } | null | undefined),
      ...projected(live, by),
    };
  },

  price(p: Stripe.Price | Stripe.DeletedPrice, by: AppliedBy, deleted = false): typeof prices.$inferInsert & Projected {
    const live = p as Partial<Stripe.Price>;
    return {
      id: p.id,
      productId: idOf(live.product as string | { id: string } | null | undefined),
      active: live.active === true && !deleted,
      deleted: deleted || p.deleted === true,
      currency: live.currency ?? null,
      unitAmount: live.unit_amount ?? null,
      recurringInterval: live.recurring?.interval ?? null,
      lookupKey: live.lookup_key ?? null,
      nickname: live.nickname ?? null,
      ...projected(live, by),
    };
  },
};

/** An invoice's subscription: `parent.subscription_details.subscription` now, `subscription` before 2025. */
export function invoiceSubscriptionId(i: Stripe.Invoice): string | null {
  const parent = (i as { parent?: { subscription_details?: { subscription?: string | { id: string } | null } | null } | null }).parent;
  return idOf(parent?.subscription_details?.subscription ?? (i as { subscription?: string | { id: string } | null }).subscription);
}
