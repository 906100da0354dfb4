import { describe, expect, it } from "vitest";
import { deliver } from "../helpers/deliver";
import { heldInvoice } from "../helpers/fulfilment";
import { ledgerRow, payloadText, setRow } from "../helpers/ledger";
import { DEAD_LETTER_QUEUE, runBatch, runCron } from "../helpers/worker";

/** `max_retries` of the stripe-events consumer in wrangler.toml: deliveries = 1 + retries. */
const MAX_RETRIES = 10;

describe("a handler that keeps throwing", () => {
  it("is retried with growing delays, dead-lettered, left alone while dead, and fulfilled exactly once after a replay", async () => {
    const { fulfilment, worker, sent, healthy, event, id } = heldInvoice();
    await deliver(event, { worker, env: healthy });
    expect(sent).toEqual([id]);

    fulfilment.failing = "all";
    const delays: (number | undefined)[] = [];
    for (let attempt = 1; attempt <= MAX_RETRIES + 1; attempt++) {
      const outcome = await runBatch([id], { worker, attempts: attempt });
      expect(outcome.acked).toEqual([]);
      expect(outcome.retried.map((r) => r.id)).toEqual([id]);
      delays.push(outcome.retried[0]!.delaySeconds);
      expect(await ledgerRow(id)).toMatchObject({
        status: "failed",
        attempts: attempt,
        last_error: "Error: fulfilment service unavailable",
      });
    }
    // 10 s doubling per attempt, capped at an hour: the schedule the README promises.
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]);
    expect(fulfilment.done).toEqual([]);

    // Retries exhausted, the queue moves the message to the dead-letter queue.
    expect((await runBatch([id], { worker, queue: DEAD_LETTER_QUEUE })).acked).toEqual([id]);
    const dead = await ledgerRow(id);
    expect(dead).toMatchObject({ status: "dead", redrive_at: null, last_error: "Error: fulfilment service unavailable" });
    expect(JSON.parse(await payloadText(dead!))).toEqual(event);

    // Dead stays dead: the cron does not pick it up and a stray copy of the message runs nothing.
    fulfilment.failing = "none";
    await runCron(Date.now() + 7 * 24 * 3600_000, { env: healthy });
    expect(sent).toEqual([id]);
    expect((await runBatch([id], { worker })).acked).toEqual([id]);
    expect(fulfilment.done).toEqual([]);
    expect((await ledgerRow(id))?.status).toBe("dead");

    // Replay: with the cause fixed, the operator sets the row back to failed and due; the cron does the rest.
    const replayAt = Date.now();
    await setRow(id, { status: "failed", redrive_at: replayAt });
    await runCron(replayAt, { env: healthy });
    expect(sent).toEqual([id, id]);
    expect((await runBatch([id], { worker })).acked).toEqual([id]);
    expect(fulfilment.done).toEqual([id]);
    expect(await ledgerRow(id)).toMatchObject({ status: "processed", attempts: MAX_RETRIES + 2, last_error: null, redrive_at: null });

    // The queue delivers at least once: the replayed message arriving again fulfils nothing more.
    await runBatch([id], { worker });
    expect(fulfilment.done).toEqual([id]);
  });
});
