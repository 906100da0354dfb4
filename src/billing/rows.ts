import type Stripe from "stripe";
import type { charges, checkoutSessions, customers, invoices, paymentIntents, subscriptions } from "../db/billing-schema";

/** The event an object arrived with: its `created` orders writes to the object's row. */
export interface AppliedBy {
  eventId: string;
  eventCreated: number;
  nowMs: number;
}

type Projected = { livemode: boolean; lastEventCreated: number; lastEventId: string; updatedAt: number };

function projected(object: { livemode?: boolean }, by: AppliedBy): Projected {
  return { livemode: object.livemode === true, lastEventCreated: by.eventCreated, lastEventId: by.eventId, updatedAt: by.nowMs };
}

/** The id of an expandable field, whether Stripe sent the id or the expanded object. */
function idOf(field: string | { id: string } | null | undefined): string | null {
  if (field === null || field === undefined) return null;
  return typeof field === "string" ? field : field.id;
}

/**
 * Maps Stripe objects to table rows. Field names are those of Stripe's OpenAPI fixtures for the
 * current API version; where the API moved a field (current_period_end to subscription items, an
 * invoice's subscription to `parent.subscription_details`) the older place is read as a fallback,
 * because events keep the API version of the endpoint that produced them.
 */
export const rows = {
  customer(c: Stripe.Customer | Stripe.DeletedCustomer, by: AppliedBy, deleted = false): typeof customers.$inferInsert {
    const live = c as Partial<Stripe.Customer>;
    return { id: c.id, email: live.email ?? null, name: live.name ?? null, deleted: deleted || c.deleted === true, ...projected(live, by) };
  },

  subscription(s: Stripe.Subscription, by: AppliedBy, forceStatus?: "canceled"): typeof subscriptions.$inferInsert {
    const items = s.items?.data ?? [];
    const periodEnds = items
      .map((i) => (i as { current_period_end?: number }).current_period_end)
      .filter((v): v is number => typeof v === "number");
    const legacyPeriodEnd = (s as { current_period_end?: number }).current_period_end;
    return {
      id: s.id,
      customerId: idOf(s.customer) ?? "",
      status: forceStatus ?? s.status,
      priceIds: JSON.stringify(items.map((i) => idOf(i.price)).filter((v) => v !== null)),
      currentPeriodEnd: periodEnds.length > 0 ? Math.max(...periodEnds) : (legacyPeriodEnd ?? null),
      cancelAtPeriodEnd: s.cancel_at_period_end === true,
      cancelAt: s.cancel_at ?? null,
      canceledAt: s.canceled_at ?? null,
      trialEnd: s.trial_end ?? null,
      ...projected(s, by),
    };
  },

  checkoutSession(s: Stripe.Checkout.Session, by: AppliedBy): typeof checkoutSessions.$inferInsert {
    return {
      id: s.id,
      customerId: idOf(s.customer),
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

  invoice(i: Stripe.Invoice, by: AppliedBy): typeof invoices.$inferInsert {
    return {
      id: i.id ?? "",
      customerId: idOf(i.customer),
      subscriptionId: invoiceSubscriptionId(i),
      status: i.status ?? null,
      amountPaid: i.amount_paid,
      amountDue: i.amount_due,
      currency: i.currency,
      ...projected(i, by),
    };
  },

  paymentIntent(p: Stripe.PaymentIntent, by: AppliedBy): typeof paymentIntents.$inferInsert {
    const error = p.last_payment_error;
    return {
      id: p.id,
      customerId: idOf(p.customer),
      status: p.status,
      amount: p.amount,
      amountReceived: p.amount_received,
      currency: p.currency,
      lastError: error ? [error.code, error.message].filter(Boolean).join(": ") || "payment failed" : null,
      ...projected(p, by),
    };
  },

  charge(c: Stripe.Charge, by: AppliedBy): typeof charges.$inferInsert {
    return {
      id: c.id,
      customerId: idOf(c.customer),
      paymentIntentId: idOf(c.payment_intent),
      status: c.status,
      amount: c.amount,
      amountRefunded: c.amount_refunded,
      refunded: c.refunded,
      currency: c.currency,
      ...projected(c, by),
    };
  },
};

/** An invoice's subscription: `parent.subscription_details.subscription` now, `subscription` before 2025. */
export function invoiceSubscriptionId(i: Stripe.Invoice): string | null {
  const parent = (i as { parent?: { subscription_details?: { subscription?: string | { id: string } | null } | null } | null }).parent;
  return idOf(parent?.subscription_details?.subscription ?? (i as { subscription?: string | { id: string } | null }).subscription);
}
