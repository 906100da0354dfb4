import { describe, expect, it } from "vitest";
import { createWorker } from "../../src/worker";
import { deliver } from "../helpers/deliver";
import { buildEvent, OBJECTS } from "../helpers/events";
import { countingQueue, envWith, heldQueue } from "../helpers/faults";
import { fulfilmentCounts, recordingFulfilment } from "../helpers/fulfilment";
import { ledgerCount, ledgerRow } from "../helpers/ledger";
import { expectReceipt } from "../helpers/responses";
import { runBatch } from "../helpers/worker";

function setup() {
  const fulfilment = recordingFulfilment();
  const worker = createWorker({ handlers: fulfilment.handlers });
  const { queue, sent } = countingQueue(heldQueue().queue);
  return { fulfilment, worker, sent, env: envWith({ EVENTS_QUEUE: queue }) };
}

describe("concurrent deliveries of one event", () => {
  it("records one row, enqueues once and, once the queue drains, fulfils once when the same event arrives 50 times at once", async () => {
    const { fulfilment, worker, sent, env } = setup();
    const event = buildEvent("invoice.paid", OBJECTS.invoice);
    const id = event.id;

    const responses = await Promise.all(Array.from({ length: 50 }, () => deliver(event, { worker, env })));
    const duplicates = await Promise.all(responses.map((r) => expectReceipt(r, id)));
    expect(duplicates.filter((d) => !d)).toHaveLength(1);
    expect(await ledgerCount(id)).toBe(1);
    expect(sent).toEqual([id]);

    // Queues deliver at least once: hand the message to two consumers at the same moment.
    await Promise.all([runBatch(sent, { worker }), runBatch(sent, { worker })]);
    expect(fulfilment.done).toEqual([id]);
    expect(await ledgerRow(id)).toMatchObject({ status: "processed", attempts: 1 });
  });

  it("keeps one row, one enqueue and one fulfilment per event when 20 events arrive 5 times each, interleaved, at once", async () => {
    const { fulfilment, worker, sent, env } = setup();
    const events = Array.from({ length: 20 }, () => buildEvent("invoice.paid", OBJECTS.invoice));
    const ids = events.map((e) => e.id);
    const copies = Array.from({ length: 5 }, () => events).flat();

    const responses = await Promise.all(copies.map((e) => deliver(e, { worker, env })));
    const accepted = await Promise.all(
      responses.map((r, i) => expectReceipt(r, copies[i]!.id).then((dup) => (dup ? null : copies[i]!.id))),
    );
    expect(accepted.filter((id) => id !== null).sort()).toEqual([...ids].sort());
    expect([...sent].sort()).toEqual([...ids].sort());

    await Promise.all([runBatch(sent.slice(0, 10), { worker }), runBatch(sent.slice(10), { worker }), runBatch(sent, { worker })]);
    expect(fulfilmentCounts(fulfilment.done)).toEqual(Object.fromEntries(ids.map((id) => [id, 1])));
  });
});
