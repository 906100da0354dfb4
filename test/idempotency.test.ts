import { describe, expect, it, vi } from "vitest";
import { deliver } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { countingQueue, envWith } from "./helpers/faults";
import { ledgerCount, ledgerRow } from "./helpers/ledger";

const now = () => Math.floor(Date.now() / 1000);

describe("duplicate deliveries", () => {
  it("answers a repeated delivery as a duplicate, with a fresh signature timestamp, and enqueues once", async () => {
    const { queue, sent } = countingQueue();
    const env = envWith({ EVENTS_QUEUE: queue });
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);

    const first = await deliver(e, { env, timestamp: now() - 100 });
    const second = await deliver(e, { env, timestamp: now() });
    expect(await first.json()).toEqual({ received: true, id: e.id, duplicate: false });
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ received: true, id: e.id, duplicate: true });
    expect(await ledgerCount(e.id)).toBe(1);
    expect(sent).toEqual([e.id]);
  });

  it("keeps one row and one enqueue when 20 copies of an event arrive at once", async () => {
    const { queue, sent } = countingQueue();
    const env = envWith({ EVENTS_QUEUE: queue });
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);

    const responses = await Promise.all(Array.from({ length: 20 }, () => deliver(e, { env })));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as { duplicate: boolean }[];
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
    expect(await ledgerCount(e.id)).toBe(1);
    expect(sent).toEqual([e.id]);
  });

  it("does not process an event again when Stripe redelivers it after it was processed", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    await deliver(e);
    await vi.waitFor(async () => expect((await ledgerRow(e.id))?.status).toBe("processed"), { timeout: 10_000, interval: 100 });
    const before = await ledgerRow(e.id);

    expect(await (await deliver(e)).json()).toMatchObject({ duplicate: true });
    expect(await ledgerRow(e.id)).toEqual(before);
  });
});
