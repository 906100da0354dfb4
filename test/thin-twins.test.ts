import { describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { billingRow, eventAt, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { ledgerRow, seedEvent } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { apiObject, relatedTo, thinEvent } from "./helpers/thin";
import { runBatch } from "./helpers/worker";

// One change reported in both formats: a snapshot event to a webhook endpoint, and a thin `v1.*`
// event to an event destination naming it as `snapshot_event`. Whichever is processed second is
// recorded and ends ignored as a twin, without running any handler (so no API fetch).

const keyed = envWith({ STRIPE_SECRET_KEY: "rk_test_twins" });
const T = Math.floor(Date.now() / 1000);

function twins() {
  const sub = stripeObject("subscription", { id: uid("sub"), status: "active" });
  const snapshot = eventAt("customer.subscription.updated", sub, T);
  const thin = { ...thinEvent("v1.customer.subscription.updated", relatedTo(sub), { created: T }), snapshot_event: snapshot.id };
  return { sub, snapshot, thin };
}

/** Handlers that count how often each format's handler ran, besides the built-in billing. */
function counting() {
  const ran = { snapshot: 0, thin: 0 };
  const handlers = billingHandlers()
    .on("customer.subscription.updated", () => void ran.snapshot++)
    .onThin("v1.customer.subscription.updated", () => void ran.thin++);
  return { handlers, ran };
}

describe("thin and snapshot twins", () => {
  it("ignores the thin twin that comes second, without fetching its object", async () => {
    const { sub, snapshot, thin } = twins();
    const seen = stubStripeApi(apiObject(sub));
    const { handlers, ran } = counting();
    await seedEvent(snapshot);
    await runBatch([snapshot.id], { handlers, env: keyed });
    await seedEvent(thin);
    await runBatch([thin.id], { handlers, env: keyed });
    expect(await ledgerRow(snapshot.id)).toMatchObject({ status: "processed" });
    expect(await ledgerRow(thin.id)).toMatchObject({
      status: "ignored",
      twin_of: snapshot.id,
      last_error: expect.stringContaining(`Its snapshot twin ${snapshot.id} was processed already`),
    });
    expect(ran).toEqual({ snapshot: 1, thin: 0 });
    expect(seen).toEqual([]);
  });

  it("ignores the snapshot twin that comes second", async () => {
    const { sub, snapshot, thin } = twins();
    const seen = stubStripeApi(apiObject(sub));
    const { handlers, ran } = counting();
    await seedEvent(thin);
    await runBatch([thin.id], { handlers, env: keyed });
    await seedEvent(snapshot);
    await runBatch([snapshot.id], { handlers, env: keyed });
    expect(await ledgerRow(thin.id)).toMatchObject({ status: "processed" });
    expect(await ledgerRow(snapshot.id)).toMatchObject({ status: "ignored", last_error: expect.stringContaining("Its thin twin") });
    expect(ran).toEqual({ snapshot: 0, thin: 1 });
    expect(seen).toHaveLength(1);
    expect(await billingRow("subscriptions", sub.id)).toMatchObject({ status: "active" });
  });

  it("processes the snapshot event and ignores the thin one when both are in one batch", async () => {
    const { sub, snapshot, thin } = twins();
    const seen = stubStripeApi(apiObject(sub));
    const { handlers, ran } = counting();
    await seedEvent(snapshot);
    await seedEvent(thin);
    expect(await runBatch([thin.id, snapshot.id], { handlers, env: keyed })).toMatchObject({ retried: [] });
    expect(await ledgerRow(snapshot.id)).toMatchObject({ status: "processed" });
    expect(await ledgerRow(thin.id)).toMatchObject({ status: "ignored" });
    expect(ran).toEqual({ snapshot: 1, thin: 0 });
    expect(seen).toEqual([]);
  });

  it("processes a thin event whose snapshot twin never came, and a duplicate of it once", async () => {
    const { sub, thin } = twins();
    stubStripeApi(apiObject(sub));
    const { handlers, ran } = counting();
    await seedEvent(thin);
    await runBatch([thin.id], { handlers, env: keyed });
    await runBatch([thin.id], { handlers, env: keyed });
    expect(await ledgerRow(thin.id)).toMatchObject({ status: "processed", last_error: null });
    expect(ran).toEqual({ snapshot: 0, thin: 1 });
  });
});
