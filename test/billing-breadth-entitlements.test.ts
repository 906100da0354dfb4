import { env } from "cloudflare:workers";
import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { eventAt, processEvents } from "./helpers/billing";
import { billingService } from "./helpers/billing-rpc";
import { activeEntitlementsApi, entitlementSummary, entitlementsNamed, requestLines } from "./helpers/catalogue";
import { buildEvent, uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { ledgerRow } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { thinEvent } from "./helpers/thin";
import { runBatch } from "./helpers/worker";

// Stripe's summary event carries at most ten of a customer's active entitlements and says has_more:
// the rest must be listed from the API, or the set kept as incomplete, never silently cut at ten.

const SUMMARY_UPDATED = "entitlements.active_entitlement_summary.updated";
const T = 1_760_000_000;
const keyed = envWith({ STRIPE_SECRET_KEY: "rk_test_entitlements" });

const lookupKeys = (all: readonly { lookup_key: string }[]) => all.map((e) => e.lookup_key).sort();

describe("a summary that carries ten of 25 active entitlements", () => {
  it("lists all 25 across three pages with an API key, and BillingService answers for every one", async () => {
    const customer = uid("cus");
    const all = entitlementsNamed("feature", 25);
    const seen = stubStripeApi(activeEntitlementsApi(customer, all));
    const event = eventAt(SUMMARY_UPDATED, entitlementSummary(customer, all), T);
    // As Stripe sends it: ten entitlements and has_more.
    const carried = (event.data.object as { entitlements: { data: unknown[]; has_more: boolean } }).entitlements;
    expect([carried.data.length, carried.has_more]).toEqual([10, true]);

    expect(await processEvents([event], undefined, keyed)).toEqual([]);
    expect(await ledgerRow(event.id)).toMatchObject({ status: "processed", last_error: null });
    expect(requestLines(seen)).toEqual([
      "GET /v1/entitlements/active_entitlements",
      `GET /v1/entitlements/active_entitlements after ${all[9]!.id}`,
      `GET /v1/entitlements/active_entitlements after ${all[19]!.id}`,
    ]);
    expect(seen[0]!.headers.get("authorization")).toBe("Bearer rk_test_entitlements");

    expect(await billingService().features(customer)).toEqual(lookupKeys(all));
    expect(await billingService().entitlements(customer)).toMatchObject({ entitled: true, featuresComplete: true });
    // The 25th entitlement is only on the third page: hasFeature sees it, and nothing outside the set.
    expect(await billingService().hasFeature(customer, "feature_25")).toBe(true);
    expect(await billingService().hasFeature(customer, "feature_26")).toBe(false);
  });

  it("keeps the ten it carries, marked incomplete, when there is no API key", async () => {
    const customer = uid("cus");
    const all = entitlementsNamed("feature", 25);
    const seen = stubStripeApi();
    expect(await processEvents([eventAt(SUMMARY_UPDATED, entitlementSummary(customer, all), T)])).toEqual([]);
    expect(seen).toEqual([]);
    const result = await billingService().entitlements(customer);
    expect(result).toMatchObject({ entitled: true, featuresComplete: false });
    expect(result.features).toEqual(lookupKeys(all.slice(0, 10)));
    expect(await billingService().hasFeature(customer, "feature_11")).toBe(false);
  });

  it("needs no API call when the summary carries the whole set", async () => {
    const customer = uid("cus");
    const all = entitlementsNamed("feature", 3);
    const seen = stubStripeApi();
    await processEvents([eventAt(SUMMARY_UPDATED, entitlementSummary(customer, all), T)], undefined, keyed);
    expect(seen).toEqual([]);
    expect(await billingService().entitlements(customer)).toMatchObject({ features: lookupKeys(all), featuresComplete: true });
  });

  it("empties the set, and ends access from entitlements, when a summary lists none", async () => {
    const customer = uid("cus");
    await processEvents([
      eventAt(SUMMARY_UPDATED, entitlementSummary(customer, entitlementsNamed("feature", 2)), T),
      eventAt(SUMMARY_UPDATED, entitlementSummary(customer, []), T + 10),
    ]);
    expect(await billingService().entitlements(customer)).toMatchObject({ entitled: false, features: [], featuresComplete: true });
  });
});

describe("the thin v1.entitlements.active_entitlement_summary.updated", () => {
  it("finds the customer through its snapshot twin and lists the whole set", async () => {
    const customer = uid("cus");
    const all = entitlementsNamed("thin", 25);
    // The snapshot twin as Stripe's Events API returns it: the summary with the customer.
    const snapshot = buildEvent(SUMMARY_UPDATED, entitlementSummary(customer, all), { created: T });
    const thin = thinEvent(`v1.${SUMMARY_UPDATED}`, null, { created: T });
    const seen = stubStripeApi(
      http.get(`https://api.stripe.com/v2/core/events/${thin.id}`, () => HttpResponse.json({ ...thin, snapshot_event: snapshot.id })),
      http.get(`https://api.stripe.com/v1/events/${snapshot.id}`, () => HttpResponse.json(snapshot)),
      activeEntitlementsApi(customer, all),
    );

    expect(await processEvents([thin], undefined, keyed)).toEqual([]);
    expect(await ledgerRow(thin.id)).toMatchObject({ status: "processed", last_error: null });
    // Everything in the set comes from the list, none from the snapshot's ten: three pages.
    expect(requestLines(seen)).toEqual([
      `GET /v2/core/events/${thin.id}`,
      `GET /v1/events/${snapshot.id}`,
      "GET /v1/entitlements/active_entitlements",
      `GET /v1/entitlements/active_entitlements after ${all[9]!.id}`,
      `GET /v1/entitlements/active_entitlements after ${all[19]!.id}`,
    ]);
    expect(await billingService().entitlements(customer)).toMatchObject({ features: lookupKeys(all), featuresComplete: true });
  });

  it("writes nothing, and still ends processed, when the thin event has no snapshot twin", async () => {
    const customer = uid("cus");
    const thin = thinEvent(`v1.${SUMMARY_UPDATED}`, null, { created: T });
    const seen = stubStripeApi(
      http.get(`https://api.stripe.com/v2/core/events/${thin.id}`, () => HttpResponse.json({ ...thin, snapshot_event: null })),
    );
    expect(await processEvents([thin], undefined, keyed)).toEqual([]);
    expect(await ledgerRow(thin.id)).toMatchObject({ status: "processed" });
    expect(requestLines(seen)).toEqual([`GET /v2/core/events/${thin.id}`]);
    expect(await billingService().entitlements(customer)).toMatchObject({ features: [], featuresComplete: true });
  });
});

describe("summaries under reordering and duplication", () => {
  it("keeps the newer set when an older summary arrives after it", async () => {
    const customer = uid("cus");
    const older = eventAt(SUMMARY_UPDATED, entitlementSummary(customer, entitlementsNamed("old", 3)), T);
    const newer = eventAt(SUMMARY_UPDATED, entitlementSummary(customer, entitlementsNamed("new", 2)), T + 60);
    expect(await processEvents([newer, older])).toEqual([]);
    expect(await ledgerRow(older.id)).toMatchObject({ status: "processed" });
    expect(await billingService().features(customer)).toEqual(["new_01", "new_02"]);
    expect(await setVersion(customer)).toEqual({ last_event_id: newer.id, last_event_created: T + 60, complete: 1 });
  });

  it("replaces the set in order: features a newer summary drops are gone, those it keeps stay", async () => {
    const customer = uid("cus");
    const [a, b, c] = entitlementsNamed("f", 3);
    await processEvents([
      eventAt(SUMMARY_UPDATED, entitlementSummary(customer, [a!, b!]), T),
      eventAt(SUMMARY_UPDATED, entitlementSummary(customer, [b!, c!]), T + 10),
    ]);
    expect(await billingService().features(customer)).toEqual(["f_02", "f_03"]);
  });

  it("changes nothing when a summary is delivered again, after a newer one was applied", async () => {
    const customer = uid("cus");
    const first = eventAt(SUMMARY_UPDATED, entitlementSummary(customer, entitlementsNamed("first", 3)), T);
    const second = eventAt(SUMMARY_UPDATED, entitlementSummary(customer, entitlementsNamed("second", 1)), T + 10);
    await processEvents([first, second]);
    const before = await setVersion(customer);
    // Stripe's retry of the first delivery (the same event id), and the queue's redelivery of it.
    await processEvents([first]);
    await runBatch([first.id], { handlers: billingHandlers(), env: keyed });
    expect(await billingService().features(customer)).toEqual(["second_01"]);
    expect(await setVersion(customer)).toEqual(before);
    expect(await ledgerRow(first.id)).toMatchObject({ status: "processed", attempts: 1 });
  });
});

/** The version columns of a customer's entitlement set on the platform. */
async function setVersion(customer: string) {
  return env.DB.prepare("SELECT last_event_id, last_event_created, complete FROM entitlement_sets WHERE account = '' AND customer_id = ?")
    .bind(customer)
    .first();
}
