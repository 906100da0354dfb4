import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { customers } from "../src/db/schema";
import { Handlers } from "../src/handlers/registry";
import { buildEvent, OBJECTS } from "./helpers/events";
import { d1FailingOn, envWith, failingD1 } from "./helpers/faults";
import { ledgerRow, payloadText, seedEvent, setRow } from "./helpers/ledger";
import { DEAD_LETTER_QUEUE, runBatch } from "./helpers/worker";

async function seeded(type = "invoice.paid", object: object = OBJECTS.invoice) {
  const e = buildEvent(type, object);
  await seedEvent(e);
  return e;
}

describe("events queue consumer", () => {
  it("runs the handler with the typed object and event, marks the row processed and acks", async () => {
    const e = await seeded();
    const seen: string[] = [];
    const handlers = new Handlers().on("invoice.paid", (invoice, event) => {
      seen.push(`${event.id}:${invoice.id}`);
    });
    const outcome = await runBatch([e.id], { handlers });
    expect(outcome.acked).toEqual([e.id]);
    expect(outcome.retried).toEqual([]);
    expect(seen).toEqual([`${e.id}:${e.data.object.id}`]);
    expect(await ledgerRow(e.id)).toMatchObject({ status: "processed", attempts: 1, last_error: null, redrive_at: null });
    expect((await ledgerRow(e.id))?.processed_at).toEqual(expect.any(Number));
  });

  it("marks an event with no handler ignored and acks", async () => {
    const e = await seeded("customer.created", OBJECTS.customer);
    const outcome = await runBatch([e.id]);
    expect(outcome.acked).toEqual([e.id]);
    expect((await ledgerRow(e.id))?.status).toBe("ignored");
  });

  it("marks a failing event failed with its error and retries it with a backoff delay", async () => {
    const e = await seeded();
    const handlers = new Handlers().on("invoice.paid", () => {
      throw new TypeError("fulfilment service answered 503");
    });
    const first = await runBatch([e.id], { handlers });
    expect(first.retried).toEqual([{ id: e.id, delaySeconds: 10 }]);
    expect(first.acked).toEqual([]);
    expect(await ledgerRow(e.id)).toMatchObject({
      status: "failed",
      attempts: 1,
      last_error: "TypeError: fulfilment service answered 503",
    });

    const second = await runBatch([e.id], { handlers, attempts: 2 });
    expect(second.retried).toEqual([{ id: e.id, delaySeconds: 20 }]);
    expect((await ledgerRow(e.id))?.attempts).toBe(2);
  });

  it("processes a failed event on a later attempt once its handler succeeds", async () => {
    const e = await seeded();
    let calls = 0;
    const flaky = new Handlers().on("invoice.paid", () => {
      if (++calls === 1) throw new Error("first try fails");
    });
    await runBatch([e.id], { handlers: flaky });
    const outcome = await runBatch([e.id], { handlers: flaky, attempts: 2 });
    expect(outcome.acked).toEqual([e.id]);
    expect(await ledgerRow(e.id)).toMatchObject({ status: "processed", attempts: 2, last_error: null });
  });

  it("acks without running handlers again for an event already processed", async () => {
    const e = await seeded();
    let calls = 0;
    const counting = new Handlers().on("invoice.paid", () => void calls++);
    await runBatch([e.id], { handlers: counting });
    const outcome = await runBatch([e.id], { handlers: counting });
    expect(outcome.acked).toEqual([e.id]);
    expect(calls).toBe(1);
  });

  it("acks without running handlers for an event another consumer holds under a live lease", async () => {
    const e = await seeded();
    await setRow(e.id, { status: "processing", attempts: 1, lease_until: Date.now() + 60_000 });
    let calls = 0;
    const outcome = await runBatch([e.id], { handlers: new Handlers().on("invoice.paid", () => void calls++) });
    expect(outcome.acked).toEqual([e.id]);
    expect(calls).toBe(0);
    expect((await ledgerRow(e.id))?.status).toBe("processing");
  });

  it("takes over an event whose consumer's lease has run out", async () => {
    const e = await seeded();
    await setRow(e.id, { status: "processing", attempts: 1, lease_until: Date.now() - 1 });
    let calls = 0;
    await runBatch([e.id], { handlers: new Handlers().on("invoice.paid", () => void calls++) });
    expect(calls).toBe(1);
    expect(await ledgerRow(e.id)).toMatchObject({ status: "processed", attempts: 2, lease_until: null });
  });

  it("processes two copies of one event in one batch once", async () => {
    const e = await seeded();
    let calls = 0;
    const outcome = await runBatch([e.id, e.id], { handlers: new Handlers().on("invoice.paid", () => void calls++) });
    expect(outcome.acked).toEqual([e.id, e.id]);
    expect(calls).toBe(1);
  });

  it("handles every message of a mixed batch on its own and never throws", async () => {
    const ok = await seeded();
    const bad = await seeded("invoice.payment_failed", OBJECTS.invoice);
    const handlers = new Handlers()
      .on("invoice.paid", () => {})
      .on("invoice.payment_failed", () => {
        throw new Error("boom");
      });
    const outcome = await runBatch([ok.id, bad.id, { body: "not an event message" }, "evt_unknown"], { handlers });
    expect(outcome.outcome).toBe("ok");
    expect(outcome.acked).toEqual([ok.id, "body #2", "evt_unknown"]);
    expect(outcome.retried.map((m) => m.id)).toEqual([bad.id]);
    expect((await ledgerRow(ok.id))?.status).toBe("processed");
    expect((await ledgerRow(bad.id))?.status).toBe("failed");
  });

  it("fails only the event whose stored payload cannot be read, and processes the rest of the batch", async () => {
    const [damaged, fine] = [await seeded(), await seeded()];
    await env.DB.prepare("UPDATE stripe_events SET payload = X'1F8B0800', payload_encoding = 'gzip' WHERE id = ?").bind(damaged.id).run();
    const handlers = new Handlers().on("invoice.paid", () => {});
    const outcome = await runBatch([damaged.id, fine.id], { handlers });
    expect(outcome.acked).toEqual([fine.id]);
    expect(outcome.retried.map((r) => r.id)).toEqual([damaged.id]);
    expect((await ledgerRow(damaged.id))?.status).toBe("failed");
    expect((await ledgerRow(fine.id))?.status).toBe("processed");
  });

  it("retries the message when D1 is unavailable, leaving the row untouched", async () => {
    const e = await seeded();
    const outcome = await runBatch([e.id], { env: envWith({ DB: failingD1() }) });
    expect(outcome.retried).toEqual([{ id: e.id, delaySeconds: 10 }]);
    expect(await ledgerRow(e.id)).toMatchObject({ status: "received", attempts: 0 });
  });
});

describe("writes handlers queue with ctx.write", () => {
  const customerRow = (id: string) =>
    env.DB.prepare("SELECT id, email FROM customers WHERE id = ?").bind(id).first<{ id: string; email: string | null }>();
  /** A handler that queues an insert into `customers`, with a NULL where the table forbids one when asked to. */
  const writing = (customerId: (eventId: string) => string | null) =>
    new Handlers().on("invoice.paid", (_invoice, event, ctx) => {
      ctx.write(
        ctx.db.insert(customers).values({
          id: customerId(event.id) as string,
          email: "buyer@example.com",
          livemode: false,
          lastEventCreated: event.created,
          lastEventId: event.id,
          updatedAt: ctx.nowMs,
        }),
      );
    });

  it("commits them in one transaction with the event's outcome", async () => {
    const e = await seeded();
    const customerId = `cus_${e.id}`;
    const outcome = await runBatch([e.id], { handlers: writing(() => customerId) });
    expect(outcome.acked).toEqual([e.id]);
    expect(await customerRow(customerId)).toEqual({ id: customerId, email: "buyer@example.com" });
    expect((await ledgerRow(e.id))?.status).toBe("processed");
  });

  it("fails only the event whose write D1 refuses, with the reason, and commits the rest of the batch", async () => {
    const good = await seeded();
    const bad = await seeded();
    const outcome = await runBatch([good.id, bad.id], { handlers: writing((id) => (id === bad.id ? null : `cus_${id}`)) });
    expect(outcome.acked).toEqual([good.id]);
    expect(outcome.retried.map((m) => m.id)).toEqual([bad.id]);
    expect(await customerRow(`cus_${good.id}`)).not.toBeNull();
    expect((await ledgerRow(good.id))?.status).toBe("processed");
    expect(await ledgerRow(bad.id)).toMatchObject({
      status: "failed",
      last_error: expect.stringMatching(/^Writing the handlers' changes failed: .*NOT NULL/),
    });
  });

  it("commits nothing a handler queued when the outcome cannot be recorded, and the event is retried", async () => {
    const e = await seeded();
    const customerId = `cus_${e.id}`;
    // Claims go through; every later batch (the outcome) fails, as in a D1 outage mid-invocation.
    const outage = envWith({ DB: d1FailingOn(/^update "stripe_events" set "status" = \?, "lease_until"/) });
    const outcome = await runBatch([e.id], { handlers: writing(() => customerId), env: outage });
    expect(outcome.retried.map((m) => m.id)).toEqual([e.id]);
    expect(await customerRow(customerId)).toBeNull();
    expect(await ledgerRow(e.id)).toMatchObject({ status: "processing", lease_until: expect.any(Number) });
  });
});

describe("dead-letter queue consumer", () => {
  it("marks an event whose retries ran out dead, keeping its payload and last error", async () => {
    const e = await seeded();
    await setRow(e.id, { status: "failed", attempts: 11, last_error: "Error: still down", redrive_at: Date.now() + 60_000 });
    const outcome = await runBatch([e.id], { queue: DEAD_LETTER_QUEUE });
    expect(outcome.acked).toEqual([e.id]);
    const row = await ledgerRow(e.id);
    expect(row).toMatchObject({ status: "dead", last_error: "Error: still down", redrive_at: null });
    expect(JSON.parse(await payloadText(row!)).id).toBe(e.id);
  });

  it("does not mark an event dead that was processed meanwhile", async () => {
    const e = await seeded();
    await setRow(e.id, { status: "processed", redrive_at: null });
    await runBatch([e.id], { queue: DEAD_LETTER_QUEUE });
    expect((await ledgerRow(e.id))?.status).toBe("processed");
  });

  it("retries a dead letter when D1 is unavailable", async () => {
    const e = await seeded();
    const outcome = await runBatch([e.id], { queue: DEAD_LETTER_QUEUE, env: envWith({ DB: failingD1() }) });
    expect(outcome.retried.map((m) => m.id)).toEqual([e.id]);
  });
});
