import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { LEDGER_TIMING } from "../src/ledger/timing";
import { deliver } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { countingQueue, d1FailingOn, envWith, failingQueue, heldQueue } from "./helpers/faults";
import { heldInvoice } from "./helpers/fulfilment";
import { clearLedger, ledgerRow, seedEvent, setRow } from "./helpers/ledger";
import { runBatch, runCron } from "./helpers/worker";

const MINUTE = 60_000;
const { graceMs, leaseMs } = LEDGER_TIMING;

// The cron acts on every row, and tests here move its clock hours ahead: each test starts from an
// empty ledger.
beforeEach(clearLedger);

const waitForStatus = (id: string, status: string) =>
  vi.waitFor(async () => expect((await ledgerRow(id))?.status).toBe(status), { timeout: 10_000, interval: 100 });

/** The sends of one event. */
const sendsOf = (sent: readonly string[], id: unknown) => sent.filter((s) => s === id);

/** Runs the cron once a minute from `from` to `to` (inclusive), as Cloudflare would. */
async function cronEveryMinute(from: number, to: number, testEnv: Env): Promise<void> {
  for (let t = from; t <= to; t += MINUTE) await runCron(t, { env: testEnv });
}

describe("the request path writes D1 once", () => {
  it("leaves a delivered event received with no re-drive time: the queue send is the only work after the answer", async () => {
    const { queue, sent } = heldQueue();
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    expect((await deliver(e, { env: envWith({ EVENTS_QUEUE: queue }) })).status).toBe(200);
    expect(sent).toEqual([e.id]);
    expect(await ledgerRow(e.id)).toMatchObject({ status: "received", attempts: 0, redrive_at: null });
  });
});

describe("a send that fails after the 2xx", () => {
  it("answers 200, makes the row due at once, and the next cron run re-sends it (within about 2 minutes)", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    expect((await deliver(e, { env: envWith({ EVENTS_QUEUE: failingQueue() }) })).status).toBe(200);
    const row = await ledgerRow(e.id);
    expect(row).toMatchObject({ status: "received", attempts: 0 });
    expect(row!.redrive_at).toBeLessThanOrEqual(Date.now());

    const { queue, sent } = heldQueue();
    await runCron(row!.received_at + MINUTE, { env: envWith({ EVENTS_QUEUE: queue }) });
    expect(sendsOf(sent, e.id)).toEqual([e.id]);
  });

  it("is still re-sent after the grace when making the row due failed too (D1 down after the answer)", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    const outage = envWith({ EVENTS_QUEUE: failingQueue(), DB: d1FailingOn(/^\s*update\b/i) });
    expect((await deliver(e, { env: outage })).status).toBe(200);
    const row = await ledgerRow(e.id);
    expect(row).toMatchObject({ status: "received", redrive_at: null });

    const { queue, sent } = heldQueue();
    const healthy = envWith({ EVENTS_QUEUE: queue });
    await cronEveryMinute(row!.received_at + MINUTE, row!.received_at + graceMs - 1, healthy);
    expect(sendsOf(sent, e.id)).toEqual([]);
    await runCron(row!.received_at + graceMs, { env: healthy });
    expect(sendsOf(sent, e.id)).toEqual([e.id]);
  });

  it("keeps due rows when the cron's own send fails, for the next run", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    await seedEvent(e, Date.now() - 10 * MINUTE);
    await runCron(Date.now(), { env: envWith({ EVENTS_QUEUE: failingQueue() }) });
    expect(await ledgerRow(e.id)).toMatchObject({ status: "received", redrive_at: expect.any(Number) });
    expect((await ledgerRow(e.id))!.redrive_at).toBeLessThanOrEqual(Date.now());

    await runCron(Date.now());
    await waitForStatus(e.id, "processed");
  });
});

describe("an isolate that dies between the 2xx and the send", () => {
  it("is re-sent once the grace has passed, and not before, then processed", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    // Recorded like a delivery, but the send never happens.
    const receivedAt = Date.now();
    await seedEvent(e, receivedAt);

    const { queue, sent } = countingQueue();
    const counting = envWith({ EVENTS_QUEUE: queue });
    await cronEveryMinute(receivedAt, receivedAt + graceMs - 1, counting);
    expect(sendsOf(sent, e.id)).toEqual([]);
    await runCron(receivedAt + graceMs, { env: counting });
    expect(sendsOf(sent, e.id)).toEqual([e.id]);
    await waitForStatus(e.id, "processed");
  });
});

describe("a consumer backlog", () => {
  it("shorter than the grace causes no re-send", async () => {
    const { queue, sent } = heldQueue();
    const backlog = envWith({ EVENTS_QUEUE: queue });
    const e = buildEvent("invoice.paid", OBJECTS.invoice);
    await deliver(e, { env: backlog });
    const receivedAt = (await ledgerRow(e.id))!.received_at;
    await cronEveryMinute(receivedAt, receivedAt + graceMs - 1, backlog);
    expect(sendsOf(sent, e.id)).toEqual([e.id]);
  });

  it("longer than the grace re-sends each event only when its age has doubled, and the copies are fulfilled once", async () => {
    const { fulfilment, worker, sent, healthy: backlog, event, id } = heldInvoice();
    await deliver(event, { worker, env: backlog });
    const receivedAt = (await ledgerRow(id))!.received_at;

    // Seven hours of cron runs, one a minute, while every message waits in the backlog.
    const sendAges: number[] = [];
    for (let t = receivedAt; t <= receivedAt + 7 * 60 * MINUTE; t += MINUTE) {
      const before = sendsOf(sent, id).length;
      await runCron(t, { env: backlog });
      if (sendsOf(sent, id).length > before) sendAges.push((t - receivedAt) / MINUTE);
    }
    // At 5 minutes, then each time the age has doubled, then at least every 6 hours: 7 copies in 7 hours, not 420.
    expect(sendAges).toEqual([5, 10, 20, 40, 80, 160, 320]);
    expect(sendsOf(sent, id)).toHaveLength(8);

    // The backlog drains: the first copy is processed, every other copy finds the event final.
    const outcome = await runBatch(sendsOf(sent, id), { worker });
    expect(outcome.acked).toHaveLength(8);
    expect(fulfilment.done).toEqual([id]);
    expect(await ledgerRow(id)).toMatchObject({ status: "processed", attempts: 1, redrive_at: null });
  });
});

describe("the cron leaves alone", () => {
  it("processed, ignored and dead events, however old", async () => {
    const { queue, sent } = countingQueue();
    const ids: string[] = [];
    for (const status of ["processed", "ignored", "dead"]) {
      const e = buildEvent("customer.created", OBJECTS.customer);
      await seedEvent(e, Date.now() - 24 * 3600_000);
      await setRow(e.id, { status, redrive_at: null });
      ids.push(e.id);
    }
    await runCron(Date.now() + 24 * 3600_000, { env: envWith({ EVENTS_QUEUE: queue }) });
    expect(sent.filter((id) => ids.includes(id))).toEqual([]);
  });

  it("an event held under a live lease, until the lease ends", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    // Claimed a lease ago, so that the lease has run out by the time the real queue delivers the copy.
    const claimedAt = Date.now() - leaseMs - 1;
    await seedEvent(e, claimedAt);
    await setRow(e.id, { status: "processing", attempts: 1, lease_until: claimedAt + leaseMs });

    const { queue, sent } = countingQueue();
    const counting = envWith({ EVENTS_QUEUE: queue });
    await runCron(claimedAt + graceMs, { env: counting });
    await runCron(claimedAt + leaseMs - 1, { env: counting });
    expect(sendsOf(sent, e.id)).toEqual([]);
    await runCron(claimedAt + leaseMs, { env: counting });
    expect(sendsOf(sent, e.id)).toEqual([e.id]);
    await waitForStatus(e.id, "processed");
    expect((await ledgerRow(e.id))?.attempts).toBe(2);
  });
});

describe("re-driving many rows", () => {
  it("re-sends more rows in one run than fit in one D1 statement's bound parameters", async () => {
    // D1 allows 100 bound parameters per statement; a run re-drives up to 500 rows.
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      const e = buildEvent("plan.created", OBJECTS.customer);
      await seedEvent(e, Date.now() - 10 * MINUTE);
      ids.push(e.id);
    }
    const { queue, sent } = countingQueue();
    await runCron(Date.now(), { env: envWith({ EVENTS_QUEUE: queue }) });
    expect(sent.filter((id) => ids.includes(id))).toHaveLength(150);
    // Let the queue finish them before the file's storage goes away.
    await vi.waitFor(
      async () => {
        const left = await env.DB.prepare(
          "SELECT COUNT(*) AS n FROM stripe_events WHERE status NOT IN ('processed', 'ignored', 'dead')",
        ).first<{ n: number }>();
        expect(left?.n).toBe(0);
      },
      { timeout: 30_000, interval: 250 },
    );
  });
});
