import { beforeEach, describe, expect, it } from "vitest";
import { LEDGER_TIMING } from "../../src/ledger/timing";
import { deliver, TEST_SECRET } from "../helpers/deliver";
import { d1FailingOn, envWith, failingQueue, INJECTED_ERROR_TEXT } from "../helpers/faults";
import { heldInvoice } from "../helpers/fulfilment";
import { clearLedger, ledgerCount, ledgerRow } from "../helpers/ledger";
import { captureLogs, expectCleanLogs } from "../helpers/logs";
import { expectErrorEnvelope, expectReceipt } from "../helpers/responses";
import { runBatch, runCron } from "../helpers/worker";

const INSERT = /^\s*insert\b/i;

// Tests here run the cron a day ahead; each starts the sweep afresh.
beforeEach(clearLedger);

describe("D1 failing on the ledger insert", () => {
  it("answers 500 storage_unavailable, records and enqueues nothing, logs no secret, and fulfils Stripe's retry exactly once", async () => {
    const { fulfilment, worker, queue, sent, event, id, healthy } = heldInvoice();

    const logs = captureLogs();
    const refused = await deliver(event, { worker, env: envWith({ DB: d1FailingOn(INSERT), EVENTS_QUEUE: queue }) });
    expect(await expectErrorEnvelope(refused, [TEST_SECRET, INJECTED_ERROR_TEXT])).toBe("storage_unavailable");
    expect(logs.map((line) => JSON.parse(line).msg)).toContain("ledger_write_failed");
    expectCleanLogs(logs, [TEST_SECRET, INJECTED_ERROR_TEXT]);
    expect(await ledgerCount(id)).toBe(0);
    expect(sent).toEqual([]);

    expect(await expectReceipt(await deliver(event, { worker, env: healthy }), id)).toBe(false);
    expect(sent).toEqual([id]);
    expect((await runBatch(sent, { worker })).acked).toEqual([id]);
    expect(fulfilment.done).toEqual([id]);

    // Stripe's later retries of the first attempt find the event already fulfilled.
    expect(await expectReceipt(await deliver(event, { worker, env: healthy }), id)).toBe(true);
    expect(sent).toEqual([id]);
    expect(fulfilment.done).toEqual([id]);
    expect((await ledgerRow(id))?.status).toBe("processed");
  });

  it(
    "keeps an event whose insert committed but whose answer was lost: " +
      "Stripe's retry is a duplicate and the cron gets it fulfilled once",
    async () => {
      const { fulfilment, worker, queue, sent, event, id, healthy } = heldInvoice();

      const lost = await deliver(event, { worker, env: envWith({ DB: d1FailingOn(INSERT, "after"), EVENTS_QUEUE: queue }) });
      expect(await expectErrorEnvelope(lost)).toBe("storage_unavailable");
      const row = await ledgerRow(id);
      expect(row).toMatchObject({ status: "received", attempts: 0 });

      // The retry is answered as a duplicate, so nothing on the delivery path enqueues it again.
      expect(await expectReceipt(await deliver(event, { worker, env: healthy }), id)).toBe(true);
      expect(sent).toEqual([]);

      // Within the grace the delivery path's own send could still be running: no re-drive yet.
      await runCron(row!.received_at + 1_000, { env: healthy });
      expect(sent).toEqual([]);
      const due = row!.received_at + LEDGER_TIMING.graceMs;
      await runCron(due - 1, { env: healthy });
      expect(sent).toEqual([]);
      await runCron(due, { env: healthy });
      expect(sent).toEqual([id]);

      expect((await runBatch(sent, { worker })).acked).toEqual([id]);
      expect(fulfilment.done).toEqual([id]);
      await runCron(due + 24 * 3600_000, { env: healthy });
      expect(sent).toEqual([id]);
    },
  );
});

describe("a Queue whose send rejects", () => {
  it("still answers 200, and the cron re-drives the event to exactly one fulfilment while Stripe redelivers it", async () => {
    const { fulfilment, worker, sent, event, id, healthy } = heldInvoice();
    const outage = envWith({ EVENTS_QUEUE: failingQueue() });

    expect(await expectReceipt(await deliver(event, { worker, env: outage }), id)).toBe(false);
    expect(await expectReceipt(await deliver(event, { worker, env: outage }), id)).toBe(true);
    const row = await ledgerRow(id);
    expect(row).toMatchObject({ status: "received", attempts: 0 });

    // The failed send made the row due: the next minute's cron re-sends it.
    await runCron(row!.received_at + 60_000, { env: healthy });
    expect(sent).toEqual([id]);
    expect((await ledgerRow(id))?.status).toBe("received");
    expect((await runBatch(sent, { worker })).acked).toEqual([id]);
    expect(fulfilment.done).toEqual([id]);

    await runCron(Date.now() + 24 * 3600_000, { env: healthy });
    expect(sent).toEqual([id]);
    expect(fulfilment.done).toEqual([id]);
  });

  it("fulfils once when the send succeeded but the consumer was slower than the grace and the cron sent it again", async () => {
    const { fulfilment, worker, sent, event, id, healthy } = heldInvoice();

    expect(await expectReceipt(await deliver(event, { worker, env: healthy }), id)).toBe(false);
    expect(sent).toEqual([id]);
    const row = await ledgerRow(id);

    // The first message is still waiting in the queue when the cron, seeing the row unclaimed, sends another.
    await runCron(row!.received_at + LEDGER_TIMING.graceMs, { env: healthy });
    expect(sent).toEqual([id, id]);
    const outcome = await runBatch(sent, { worker });
    expect(outcome.acked).toEqual([id, id]);
    expect(fulfilment.done).toEqual([id]);
    expect(await ledgerRow(id)).toMatchObject({ status: "processed", attempts: 1 });
  });
});
