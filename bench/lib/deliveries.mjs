// Builds Stripe deliveries for the load generator: realistic events from Stripe's own example
// objects (test/fixtures/stripe-objects), each with a distinct event id and object id, signed the
// way Stripe signs (t=, v1=, v0 decoy). Signing happens here, before any timed run, so the load
// generator's own HMAC work is never part of a measurement.
import { readFileSync } from "node:fs";
import { stripeSignatureHeader } from "../../scripts/lib/stripe-signature.mjs";

const FIXTURES = new URL("../../test/fixtures/", import.meta.url);

/** The secret every bench target is configured with (a local, made-up value). */
export const BENCH_SECRET = "whsec_bench_local_secret_not_for_production";

/** Event types sent round-robin: each has a built-in handler that projects its object. */
const MIX = [
  ["checkout.session.completed", "checkout.session.json"],
  ["invoice.paid", "invoice.json"],
  ["customer.subscription.updated", "subscription.json"],
  ["customer.created", "customer.json"],
];
/** The event types of the mix, in round-robin order. */
export const MIX_TYPES = MIX.map(([type]) => type);

/**
 * Types counted on their own, outside the mix (so the mix's figures compare with earlier runs): the
 * catalogue and the Stripe Entitlements summary (with two entitlements, no `has_more`), from Stripe's
 * example objects in test/fixtures/stripe-objects-more.
 */
const BREADTH = [
  ["product.created", "product"],
  ["price.created", "price"],
  ["entitlements.active_entitlement_summary.updated", "entitlements.active_entitlement_summary"],
];
export const BREADTH_TYPES = BREADTH.map(([type]) => type);
const CATALOGUE = readJson("stripe-objects-more/entitlements-catalogue.json");

const HEADERS = Object.fromEntries(
  Object.entries(readJson("delivery-headers.json")).filter(([name]) => name.toLowerCase() !== "stripe-signature"),
);
const BASE_EVENT = readJson("stripe-objects/event.json");
const OBJECTS = new Map([
  ...MIX.map(([type, file]) => [type, readJson(`stripe-objects/${file}`)]),
  ...BREADTH.map(([type, name]) => [type, CATALOGUE[name]]),
]);

// Stripe's example objects are an unpaid session and a draft invoice; these fields make them the
// paid objects that trigger the once-only fulfilments (src/billing/handlers.ts).
const PAID_FIELDS = {
  "checkout.session.completed": { status: "complete", payment_status: "paid" },
  "invoice.paid": { status: "paid" },
};

/**
 * `count` distinct events (ids `evt_bench_<tag>_<n>`), as serialised JSON bodies, with the types in
 * `types` taken round-robin (default: the whole mix). `paid` makes sessions and invoices paid.
 * `unhandled` names each type `bench.unhandled.<type>` (same bytes but for those 17): no handler
 * wants it, so the consumer ends it `ignored`, final and compressed, with no billing row, which is
 * how the bench measures the ledger alone at its final size. The same body can be signed again later
 * to make a duplicate delivery, as Stripe re-signs every retry.
 */
export function buildEvents(tag, count, { types = MIX_TYPES, paid = false, unhandled = false } = {}) {
  const created = Math.floor(Date.now() / 1000);
  const events = new Array(count);
  for (let i = 0; i < count; i++) {
    const type = types[i % types.length];
    const object = { ...structuredClone(OBJECTS.get(type)), ...(paid ? PAID_FIELDS[type] : {}) };
    // Distinct objects too, so once-per-object fulfilment does real work for every event. A summary
    // has no id: it is about its customer.
    if (object.object === "entitlements.active_entitlement_summary") {
      object.customer = `cus_bench_${tag}_${i}`;
      object.livemode = false;
      const [sample] = object.entitlements.data;
      object.entitlements.data = ["a", "b"].map((k) => ({
        ...sample,
        id: `ent_bench_${tag}_${i}_${k}`,
        feature:
          typeof sample.feature === "string" ? `feat_bench_${k}` : { ...sample.feature, id: `feat_bench_${k}`, lookup_key: `feature_${k}` },
        lookup_key: `feature_${k}`,
      }));
    } else object.id = `${String(object.id).split("_")[0]}_bench_${tag}_${i}`;
    const named = unhandled ? `bench.unhandled.${type}` : type;
    const event = { ...BASE_EVENT, id: `evt_bench_${tag}_${i}`, type: named, created, api_version: "2026-10-28.endive", data: { object } };
    events[i] = { id: event.id, type, objectId: object.id ?? object.customer, body: JSON.stringify(event) };
  }
  return events;
}

/**
 * A signed delivery (headers and body) for one event body. `kind` makes the bad deliveries the soak
 * needs: "forged" is signed with another secret, "stale" is signed an hour ago.
 */
export function signDelivery(body, { kind = "valid", nowSeconds = Math.floor(Date.now() / 1000) } = {}) {
  const t = kind === "stale" ? nowSeconds - 3600 : nowSeconds;
  const secret = kind === "forged" ? "whsec_forger_does_not_know_the_secret" : BENCH_SECRET;
  return {
    headers: { ...HEADERS, "Stripe-Signature": stripeSignatureHeader(body, secret, t) },
    body,
  };
}

function readJson(path) {
  return JSON.parse(readFileSync(new URL(path, FIXTURES), "utf8"));
}
