import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { REDRIVE_AFTER_MS } from "../src/db/events";
import { defaultHandlers } from "../src/handlers";
import { createWorker } from "../src/worker";
import { deliver } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { countingQueue, envWith, failingQueue } from "./helpers/faults";
import { ledgerRow, seedEvent, setRow } from "./helpers/ledger";

/** Runs the cron trigger of a Worker whose clock reads `nowMs`. */
async function runCron(nowMs: number, testEnv: Env = env): Promise<void> {
  const worker = createWorker({ handlers: defaultHandlers(), now: () => nowMs });
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: nowMs, cron: "* * * * *" }), testEnv, ctx);
  await waitOnExecutionContext(ctx);
}

const waitForStatus = (id: string, status: string) =>
  vi.waitFor(async () => expect((await ledgerRow(id))?.status).toBe(status), { timeout: 10_000, interval: 100 });

describe("failures after the 2xx are re-driven, never lost", () => {
  it("answers 200 and leaves the row received when the enqueue fails", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    const response = await deliver(e, { env: envWith({ EVENTS_QUEUE: failingQueue() }) });
    expect(response.status).toBe(200);
    expect(await ledgerRow(e.id as string)).toMatchObject({ status: "received", attempts: 0 });
  });

  it("re-enqueues a row left received once its grace has passed, and it gets processed", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    await deliver(e, { env: envWith({ EVENTS_QUEUE: failingQueue() }) });
    const row = await ledgerRow(e.id as string);

    await runCron((row!.received_at as number) + REDRIVE_AFTER_MS.received + 1);
    await waitForStatus(e.id as string, "processed");
  });

  it("leaves a row received within its grace alone, so an enqueue still in flight is not doubled", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    await seedEvent(e);
    const { queue, sent } = countingQueue();
    await runCron(Date.now() + 1_000, envWith({ EVENTS_QUEUE: queue }));
    expect(sent).not.toContain(e.id);
    expect((await ledgerRow(e.id as string))?.status).toBe("received");
  });

  it("re-drives an event stuck in processing after its lease expired (a consumer died)", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    await seedEvent(e);
    await setRow(e.id as string, { status: "processing", attempts: 1, redrive_at: Date.now() - 1 });

    await runCron(Date.now());
    await waitForStatus(e.id as string, "processed");
    expect((await ledgerRow(e.id as string))?.attempts).toBe(2);
  });

  it("does not re-drive processed, ignored or dead events", async () => {
    const { queue, sent } = countingQueue();
    const ids: string[] = [];
    for (const status of ["processed", "ignored", "dead"]) {
      const e = buildEvent("customer.created", OBJECTS.customer);
      await seedEvent(e, Date.now() - 24 * 3600_000);
      await setRow(e.id as string, { status, redrive_at: null });
      ids.push(e.id as string);
    }
    await runCron(Date.now() + 24 * 3600_000, envWith({ EVENTS_QUEUE: queue }));
    expect(sent.filter((id) => ids.includes(id))).toEqual([]);
  });

  it("keeps due rows when the cron's own enqueue fails, for the next run", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    await seedEvent(e, Date.now() - 10 * 60_000);
    await runCron(Date.now(), envWith({ EVENTS_QUEUE: failingQueue() }));
    expect((await ledgerRow(e.id as string))?.status).toBe("received");

    await runCron(Date.now());
    await waitForStatus(e.id as string, "processed");
  });

  it("re-drives more due rows in one run than fit in one D1 statement's bound parameters", async () => {
    // D1 allows 100 bound parameters per statement; the re-drive marks up to 500 rows per run.
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) {
      const e = buildEvent("plan.created", OBJECTS.customer);
      await seedEvent(e, Date.now() - 10 * 60_000);
      ids.push(e.id as string);
    }
    const { queue, sent } = countingQueue();
    await runCron(Date.now(), envWith({ EVENTS_QUEUE: queue }));
    expect(sent.filter((id) => ids.includes(id))).toHaveLength(150);
    const statuses = await Promise.all(ids.map(async (id) => (await ledgerRow(id))?.status));
    expect(statuses.filter((s) => s === "received")).toEqual([]);
    // Let the queue finish them before the file's storage goes away.
    await vi.waitFor(async () => {
      const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM stripe_events WHERE status NOT IN ('processed', 'ignored')").first<{ n: number }>();
      expect(left?.n).toBeLessThanOrEqual(1);
    }, { timeout: 30_000, interval: 250 });
  });
});

