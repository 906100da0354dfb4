import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { billingRow, eventAt, paidCheckoutSession, processEvents } from "./helpers/billing";
import { deliver } from "./helpers/deliver";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { ledgerRow } from "./helpers/ledger";
import { runBatch } from "./helpers/worker";

// The trust boundaries of a deployment: it processes the Stripe mode it was told to (STRIPE_MODE),
// and gives connected accounts' events to the built-in billing only when told to
// (STRIPE_CONNECT_BILLING). An attacker who can make a checkout in test mode (a public staging site,
// card 4242) or in a connected account of their own must not be granted access on the live platform.

const T = 1_760_000_000;
const live = envWith({ STRIPE_MODE: "live" } as Partial<Env>);

const entitlements = (customer: string) =>
  (exports as unknown as { BillingService: { entitlements(id: string): Promise<{ entitled: boolean }> } }).BillingService.entitlements(
    customer,
  );

/** The built-in handlers with a `checkout_session.paid` hook that records the sessions it granted. */
function granting() {
  const granted: string[] = [];
  const handlers = billingHandlers().fulfil("checkout_session.paid", (session) => void granted.push(session.id));
  return { handlers, granted };
}

describe("STRIPE_MODE", () => {
  it("records a test-mode checkout on a live Worker and ignores it: no grant, no billing row, no entitlement", async () => {
    const { handlers, granted } = granting();
    const customer = uid("cus");
    const event = eventAt("checkout.session.completed", paidCheckoutSession(customer, uid("pi")), T);
    expect((await deliver(event, { env: live })).status).toBe(200);
    expect(await runBatch([event.id], { handlers, env: live })).toMatchObject({ acked: [event.id], retried: [] });

    expect(await ledgerRow(event.id)).toMatchObject({
      status: "ignored",
      last_error: "A test-mode event, and this Worker processes live-mode events only (STRIPE_MODE).",
    });
    expect(granted).toEqual([]);
    expect(await billingRow("checkout_sessions", (event.data.object as { id: string }).id)).toBeNull();
    expect((await entitlements(customer)).entitled).toBe(false);
  });

  it("processes the same checkout in live mode on a live Worker, and ignores a live one on a test Worker", async () => {
    const { handlers, granted } = granting();
    const session = paidCheckoutSession(uid("cus"), uid("pi"));
    const liveEvent = eventAt("checkout.session.completed", { ...session, livemode: true }, T);
    await processEvents([{ ...liveEvent, livemode: true }], handlers, live);
    expect(await ledgerRow(liveEvent.id)).toMatchObject({ status: "processed", last_error: null });
    expect(granted).toEqual([session.id]);

    const other = eventAt("checkout.session.completed", { ...paidCheckoutSession(uid("cus"), uid("pi")), livemode: true }, T);
    await processEvents([{ ...other, livemode: true }], handlers);
    expect(await ledgerRow(other.id)).toMatchObject({ status: "ignored", last_error: expect.stringContaining("live-mode event") });
    expect(granted).toEqual([session.id]);
  });

  it("refuses deliveries while STRIPE_MODE is unset, naming it, so Stripe retries them", async () => {
    const event = eventAt("checkout.session.completed", paidCheckoutSession(uid("cus"), uid("pi")), T);
    const response = await deliver(event, { env: envWith({ STRIPE_MODE: "" } as Partial<Env>) });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: "config_invalid", message: expect.stringMatching(/^STRIPE_MODE is not set/) } });
    expect(await ledgerRow(event.id)).toBeNull();
  });

  it("defers an event already recorded when STRIPE_MODE is unset: acked, back to received, no attempt spent", async () => {
    const { handlers, granted } = granting();
    const event = eventAt("checkout.session.completed", paidCheckoutSession(uid("cus"), uid("pi")), T);
    await deliver(event);
    const unset = envWith({ STRIPE_MODE: "" } as Partial<Env>);
    expect(await runBatch([event.id], { handlers, env: unset })).toMatchObject({ acked: [event.id], retried: [] });
    expect(await ledgerRow(event.id)).toMatchObject({ status: "received", attempts: 0, redrive_at: expect.any(Number) });
    expect(granted).toEqual([]);
    await runBatch([event.id], { handlers });
    expect(await ledgerRow(event.id)).toMatchObject({ status: "processed", attempts: 1 });
    expect(granted).toHaveLength(1);
  });
});

describe("connected accounts' events", () => {
  it("never reach the built-in billing or its hooks by default: a connected account's paid checkout grants nothing", async () => {
    const { handlers, granted } = granting();
    const customer = uid("cus");
    const event = { ...eventAt("checkout.session.completed", paidCheckoutSession(customer, uid("pi")), T), account: uid("acct") };
    await processEvents([event], handlers);
    expect(await ledgerRow(event.id)).toMatchObject({
      status: "ignored",
      last_error: expect.stringContaining(`A connected account's event (${event.account}): the built-in billing handlers apply`),
    });
    expect(granted).toEqual([]);
    expect(await billingRow("checkout_sessions", (event.data.object as { id: string }).id)).toBeNull();
    expect((await entitlements(customer)).entitled).toBe(false);
  });

  it("reach your own handlers with the account in their context", async () => {
    const seen: (string | null)[] = [];
    const handlers = billingHandlers().on("checkout.session.completed", (_session, _event, ctx) => void seen.push(ctx.account));
    const platform = eventAt("checkout.session.completed", paidCheckoutSession(uid("cus"), uid("pi")), T);
    const connected = { ...eventAt("checkout.session.completed", paidCheckoutSession(uid("cus"), uid("pi")), T), account: uid("acct") };
    await processEvents([platform, connected], handlers);
    expect(seen).toEqual([null, connected.account]);
    expect(await ledgerRow(connected.id)).toMatchObject({ status: "processed" });
    expect(await billingRow("checkout_sessions", (platform.data.object as { id: string }).id)).not.toBeNull();
    expect(await billingRow("checkout_sessions", (connected.data.object as { id: string }).id)).toBeNull();
  });

  it("reach the built-in billing and its hooks with STRIPE_CONNECT_BILLING=true", async () => {
    const { handlers, granted } = granting();
    const session = paidCheckoutSession(uid("cus"), uid("pi"));
    const event = { ...eventAt("checkout.session.completed", session, T), account: uid("acct") };
    await processEvents([event], handlers, envWith({ STRIPE_CONNECT_BILLING: "true" }));
    expect(await ledgerRow(event.id)).toMatchObject({ status: "processed" });
    expect(granted).toEqual([session.id]);
    expect(await billingRow("checkout_sessions", session.id)).toMatchObject({ payment_status: "paid" });
  });
});
