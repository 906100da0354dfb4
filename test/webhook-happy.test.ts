import { describe, expect, it, vi } from "vitest";
import baseEvent from "./fixtures/stripe-objects/event.json";
import { deliver } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { ledgerRow, payloadText } from "./helpers/ledger";

describe("POST /webhooks/stripe, accepted deliveries", () => {
  it("answers 200 with the event id and records the event in D1", async () => {
    const event = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    const response = await deliver(event);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, id: event.id, duplicate: false });

    const row = await ledgerRow(event.id);
    expect(row).toMatchObject({ id: event.id, type: "checkout.session.completed", livemode: 0, secret_index: 0 });
    expect(JSON.parse(await payloadText(row!))).toEqual(event);
  });

  it("processes an accepted event through the real queue until its row is processed", async () => {
    const event = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    expect((await deliver(event)).status).toBe(200);
    await vi.waitFor(async () => expect((await ledgerRow(event.id))?.status).toBe("processed"), { timeout: 10_000, interval: 100 });
  });

  it("marks an event with no handler ignored", async () => {
    // plan.created is the type of Stripe's own example event (stripe-objects/event.json).
    const event = buildEvent("plan.created", baseEvent.data.object);
    expect((await deliver(event)).status).toBe(200);
    await vi.waitFor(async () => expect((await ledgerRow(event.id))?.status).toBe("ignored"), { timeout: 10_000, interval: 100 });
  });
});
