import type { AppUserLink } from "../../billing/app-users";
import type { CustomerView } from "../../billing/customer-view";
import type { Entitlements } from "../../billing/entitlements";
import { type BillingObject, columnName } from "../../billing/object";
import type { EventSummary } from "../../db/ledger/reads";
import type { LedgerStats } from "../../db/ledger/stats";
import type { Timeline } from "../../db/ledger/timeline";

// The admin API's JSON shapes: snake_case like Stripe's own API, times of ours as ISO 8601, Stripe's
// own times (`created`, periods) as the Unix seconds Stripe sends.

/** A ledger row for the API (no payload). */
export function eventJson(e: EventSummary) {
  return {
    id: e.id,
    type: e.type,
    status: e.status,
    attempts: e.attempts,
    last_error: e.lastError,
    received_at: iso(e.receivedAt),
    processed_at: iso(e.processedAt),
    dead_at: iso(e.deadAt),
    created: e.created,
    livemode: e.livemode,
    account: e.account,
    api_version: e.apiVersion,
    source: e.source,
    secret_index: e.secretIndex,
    format: e.format,
    object_id: e.objectId,
    context: e.context,
    twin_of: e.twinOf,
  };
}

/** Stripe's name for the object each billing table holds, given as the row's `object` field like Stripe does. */
const OBJECT_NAMES: Record<BillingObject["table"], string> = {
  customers: "customer",
  subscriptions: "subscription",
  invoices: "invoice",
  checkout_sessions: "checkout.session",
  payment_intents: "payment_intent",
  charges: "charge",
  products: "product",
  prices: "price",
};

/** Columns that hold JSON in D1, given as the value they hold. */
const JSON_COLUMNS = new Set(["price_ids", "items"]);

/** A billing table row: its columns in snake_case, `price_ids` and `items` as arrays, `updated_at` as ISO 8601. */
function billingRowJson(table: BillingObject["table"], row: object): Record<string, unknown> {
  const json: Record<string, unknown> = { object: OBJECT_NAMES[table] };
  for (const [key, value] of Object.entries(row)) {
    const name = columnName(key);
    json[name] =
      JSON_COLUMNS.has(name) && typeof value === "string"
        ? (JSON.parse(value) as unknown)
        : name === "updated_at"
          ? iso(value as number)
          : value;
  }
  return json;
}

/** `GET /admin/api/objects/{id}`: the billing row and the events, in Stripe's `created` order. */
export function timelineJson(timeline: Timeline, object: BillingObject | null) {
  return {
    object_id: timeline.objectId,
    account: timeline.account === "" ? null : timeline.account,
    object: object && billingRowJson(object.table, object.row),
    events: timeline.events.map((e) => ({ ...eventJson(e), arrival: e.arrival, arrived_late: e.late })),
    more: timeline.more,
  };
}

/** What `BillingService.entitlements()` answers, one item per entitling subscription or purchase. */
function entitlementsJson(e: Entitlements) {
  return [
    ...e.subscriptions.map((s) => ({
      kind: "subscription" as const,
      id: s.id,
      status: s.status,
      price_ids: s.priceIds,
      plans: s.plans,
      items: s.items.map((i) => ({
        id: i.id,
        price_id: i.priceId,
        product_id: i.productId,
        product_name: i.productName,
        price_lookup_key: i.priceLookupKey,
        quantity: i.quantity,
      })),
      items_complete: s.itemsComplete,
      current_period_end: s.currentPeriodEnd,
      cancel_at_period_end: s.cancelAtPeriodEnd,
      trial_end: s.trialEnd,
    })),
    ...e.purchases.map((p) => ({
      kind: "purchase" as const,
      checkout_session_id: p.checkoutSessionId,
      amount_total: p.amountTotal,
      currency: p.currency,
      payment_intent_id: p.paymentIntentId,
    })),
  ];
}

/** `GET /admin/api/customers/{id}`. */
export function customerJson(view: CustomerView) {
  return {
    customer: view.customer && billingRowJson("customers", view.customer),
    subscriptions: view.subscriptions.map((r) => billingRowJson("subscriptions", r)),
    invoices: view.invoices.map((r) => billingRowJson("invoices", r)),
    checkout_sessions: view.checkoutSessions.map((r) => billingRowJson("checkout_sessions", r)),
    // A payment intent with the charges kept for it (the billing tables keep refunded charges).
    payments: view.paymentIntents.map((pi) => ({
      ...billingRowJson("payment_intents", pi),
      charges: view.charges.filter((c) => c.paymentIntentId === pi.id).map((c) => billingRowJson("charges", c)),
    })),
    fulfilments: view.fulfilments.map((f) => ({
      object_id: f.objectId,
      kind: f.kind,
      status: f.status,
      event_id: f.eventId,
      completed_at: iso(f.completedAt),
    })),
    entitled: view.entitlements.entitled,
    entitlements: entitlementsJson(view.entitlements),
    features: view.entitlements.features,
    features_complete: view.entitlements.featuresComplete,
    app_users: view.appUsers.map(appUserJson),
    app_user_conflicts: view.appUserConflicts.map(appUserJson),
    events: view.events.map(eventJson),
  };
}

function appUserJson(link: AppUserLink) {
  return { app_user_id: link.appUserId, customer_id: link.customerId, sources: link.sources };
}

/** `GET /admin/api/stats`: the ledger's counts and the database's size (`max_bytes` null when the settings are invalid). */
export function statsJson(stats: LedgerStats, sizeBytes: number | null, maxBytes: number | null) {
  return {
    unfinished: stats.unfinished,
    last_24h: {
      by_status: stats.recent.byStatus,
      by_type: stats.recent.byType,
      by_secret_index: stats.recent.bySecretIndex.map((s) => ({
        secret_index: s.secretIndex,
        count: s.count,
        last_received_at: iso(s.lastReceivedAt),
      })),
    },
    oldest_unprocessed: stats.oldestUnprocessed && {
      id: stats.oldestUnprocessed.id,
      status: stats.oldestUnprocessed.status,
      received_at: iso(stats.oldestUnprocessed.receivedAt),
    },
    database: { size_bytes: sizeBytes, max_bytes: maxBytes },
  };
}

/** One of our times (Unix ms) as ISO 8601, null as null. */
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
