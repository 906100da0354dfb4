import { beforeEach, describe, expect, it, vi } from "vitest";
import { Handlers } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";
import { deliver } from "../helpers/deliver";
import { buildEvent, OBJECTS } from "../helpers/events";
import { envWith, heldQueue } from "../helpers/faults";
import { fulfilmentCounts, recordingFulfilment } from "../helpers/fulfilment";
import { clearLedger, ledgerRow } from "../helpers/ledger";
import { runBatch, runCron } from "../helpers/worker";

// The cron acts on every row: each test starts from an empty ledger.
beforeEach(clearLedger);

/** Cloudflare stops a queue consumer invocation after 15 minutes of wall-clock time. */
const CONSUMER_WALL_CLOCK_LIMIT_MS = 15 * 60_000;

async function deliverInvoices(count: number, worker: ReturnType<typeof createWorker>) {
  const { queue, sent } = heldQueue();
  const healthy = envWith({ EVENTS_QUEUE: queue });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const event = buildEvent("invoice.paid", OBJECTS.invoice);
    await deliver(event, { worker, env: healthy });
    ids.push(event.id);
  }
  expect(sent).toEqual(ids);
  return { ids, sent, healthy };
}

describe("a consumer that dies mid-batch", () => {
  it("fulfils every event of a batch exactly once when one handler throws and the queue then redelivers the whole batch", async () => {
    const fulfilment = recordingFulfilment();
    const worker = createWorker({ handlers: fulfilment.handlers });
    const { ids } = await deliverInvoices(5, worker);
    const poisoned = ids[2]!;

    fulfilment.failing = new Set([poisoned]);
    const first = await runBatch(ids, { worker });
    expect(first.acked.sort()).toEqual(ids.filter((id) => id !== poisoned).sort());
    expect(first.retried.map((r) => r.id)).toEqual([poisoned]);
    expect((await ledgerRow(poisoned))?.status).toBe("failed");

    // The invocation dies before its acks reach the queue, so every message comes back.
    fulfilment.failing = "none";
    const second = await runBatch(ids, { worker, attempts: 2 });
    expect(second.acked.sort()).toEqual([...ids].sort());
    expect(fulfilmentCounts(fulfilment.done)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
    for (const id of ids) expect(await ledgerRow(id)).toMatchObject({ status: "processed", attempts: id === poisoned ? 2 : 1 });
  });

  it("re-drives an event whose consumer stopped after claiming it once the lease expires, and fulfils it once", async () => {
    const fulfilment = recordingFulfilment();
    const worker = createWorker({ handlers: fulfilment.handlers });
    const { ids, sent, healthy } = await deliverInvoices(1, worker);
    const id = ids[0]!;

    // A handler that never returns stands for an invocation killed while holding the claim.
    const stalled = createWorker({ handlers: new Handlers().on("invoice.paid", () => new Promise<never>(() => {})) });
    const claimedFrom = Date.now();
    void runBatch([id], { worker: stalled });
    await vi.waitFor(async () => expect((await ledgerRow(id))?.status).toBe("processing"), { timeout: 5_000, interval: 20 });
    const leaseEnds = (await ledgerRow(id))!.lease_until!;

    // Until then the consumer might be alive and still working: a copy now could fulfil it twice.
    await runCron(claimedFrom + CONSUMER_WALL_CLOCK_LIMIT_MS - 1, { env: healthy });
    await runCron(leaseEnds - 1, { env: healthy });
    expect(sent).toEqual([id]);
    await runCron(leaseEnds, { env: healthy });
    expect(sent).toEqual([id, id]);

    // The copy reaches a consumer after the lease, and the event is fulfilled once.
    const later = createWorker({ handlers: fulfilment.handlers, now: () => leaseEnds });
    expect((await runBatch([id], { worker: later })).acked).toEqual([id]);
    expect(fulfilment.done).toEqual([id]);
    expect(await ledgerRow(id)).toMatchObject({ status: "processed", attempts: 2 });
  });
});
