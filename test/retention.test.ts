import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { pruneLedger } from "../src/maintenance/retention";
import { createWorker } from "../src/worker";
import { billingRow, eventAt, processEvents, stripeObject } from "./helpers/billing";
import { deliver } from "./helpers/deliver";
import { buildEvent, OBJECTS, uid } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { clearLedger, ledgerCount, ledgerRow, seedEvent, setRow } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import { runBatch, runCron, testDeps } from "./helpers/worker";

const DAY = 86_400_000;
const NOW = Date.now();

// The retention acts on the whole ledger: each test starts from an empty one. These tests are retention
// without the ARCHIVE bucket (deleting only, as before it existed); test/archive-retention.test.ts has it.
beforeEach(clearLedger);

/** The test environment without the archive, with these variables. */
const withoutArchive = (vars: Partial<Env>) => envWith({ ...vars, ARCHIVE: undefined });

/** A ledger row of `status` that arrived `daysAgo` days ago. */
async function aged(status: string, daysAgo: number, type = "customer.created"): Promise<string> {
  const e = buildEvent(type, OBJECTS.customer);
  await seedEvent(e, NOW - daysAgo * DAY);
  await setRow(e.id, { status, redrive_at: null });
  return e.id;
}

describe("retention of final events", () => {
  it("deletes processed and ignored events older than LEDGER_RETENTION_DAYS, and nothing younger", async () => {
    const oldProcessed = await aged("processed", 31);
    const oldIgnored = await aged("ignored", 30.5);
    const young = await aged("processed", 29);
    await aged("processed", 0); // the newest row

    expect(await pruneLedger(testDeps({ env: withoutArchive({ LEDGER_RETENTION_DAYS: "30" }), now: NOW }))).toBe(2);
    expect(await ledgerRow(oldProcessed)).toBeNull();
    expect(await ledgerRow(oldIgnored)).toBeNull();
    expect((await ledgerRow(young))?.status).toBe("processed");
  });

  it("never deletes failed or dead events, however old: they wait for a replay or a purge", async () => {
    const kept = [await aged("failed", 400), await aged("dead", 400), await aged("received", 400), await aged("processing", 400)];
    await aged("processed", 0);
    expect(await pruneLedger(testDeps({ env: withoutArchive({ LEDGER_RETENTION_DAYS: "3" }), now: NOW }))).toBe(0);
    for (const id of kept) expect(await ledgerCount(id)).toBe(1);
  });

  it("always keeps the newest row, so that arrival order never goes back", async () => {
    const newest = await aged("processed", 100);
    expect(await pruneLedger(testDeps({ env: withoutArchive({ LEDGER_RETENTION_DAYS: "30" }), now: NOW }))).toBe(0);
    expect(await ledgerCount(newest)).toBe(1);
  });

  it("keeps everything when LEDGER_RETENTION_DAYS is 0", async () => {
    const old = await aged("processed", 10_000);
    await aged("processed", 0);
    expect(await pruneLedger(testDeps({ env: withoutArchive({ LEDGER_RETENTION_DAYS: "0" }), now: NOW }))).toBe(0);
    expect(await ledgerCount(old)).toBe(1);
  });

  it("deletes in chunks of 500 within one run and logs its progress", async () => {
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1199)
       INSERT INTO stripe_events (seq, id, type, livemode, created, received_at, status, payload)
       SELECT (${NOW - 40 * DAY} + i) * 1000, 'evt_old_' || i, 'customer.created', 0, 1700000000, ${NOW - 40 * DAY} + i, 'processed', '{}'
       FROM n`,
    ).run();
    await aged("processed", 0);
    const logs = captureLogs();
    expect(await pruneLedger(testDeps({ env: withoutArchive({ LEDGER_RETENTION_DAYS: "30" }), now: NOW }))).toBe(1200);
    expect(logs.map((l) => JSON.parse(l))).toContainEqual({
      level: "info",
      msg: "retention",
      deleted: 1200,
      before: new Date(NOW - 30 * DAY).toISOString(),
      more: false,
    });
    const left = await env.DB.prepare("SELECT COUNT(*) AS n FROM stripe_events").first<{ n: number }>();
    expect(left?.n).toBe(1);
  });

  it("runs from the cron with the configured days, and not at all when the setting is invalid", async () => {
    const old = await aged("processed", 8);
    await aged("processed", 0);
    await runCron(NOW, { env: withoutArchive({ LEDGER_RETENTION_DAYS: "nonsense" }) });
    expect(await ledgerCount(old)).toBe(1);
    await runCron(NOW, { env: withoutArchive({ LEDGER_RETENTION_DAYS: "7" }) });
    expect(await ledgerCount(old)).toBe(0);
  });
});

describe("the retention in days", () => {
  it.each([
    ["without the ARCHIVE bucket", { ARCHIVE: undefined }, 30],
    ["with the ARCHIVE bucket bound", {}, 7],
    ["with the ARCHIVE bucket bound and a value set", { LEDGER_RETENTION_DAYS: "14" }, 14],
    ["without the ARCHIVE bucket and a value set", { ARCHIVE: undefined, LEDGER_RETENTION_DAYS: "3" }, 3],
  ] as const)("%s: %i days", (_name, vars, days) => {
    expect(testDeps({ env: envWith({ LEDGER_RETENTION_DAYS: "", ...vars }) }).config.retentionDays).toBe(days);
  });

  it("keeps refusing less than 3 days with the archive bound (Stripe retries for 3 days)", () => {
    const { config } = testDeps({ env: envWith({ LEDGER_RETENTION_DAYS: "2" }) });
    expect(config.problems.map((p) => p.variable)).toEqual(["LEDGER_RETENTION_DAYS"]);
    expect(config.retentionDays).toBe(7);
  });
});

describe("a redelivery of an event retention already deleted", () => {
  it("is recorded and processed again without fulfilling twice or going back to an older state", async () => {
    const granted: string[] = [];
    const handlers = billingHandlers().fulfil("checkout_session.paid", (session) => void granted.push(session.id));
    const worker = createWorker({ handlers });
    const T = Math.floor((NOW - 40 * DAY) / 1000);
    const session = stripeObject("checkoutSession", { id: uid("cs_test"), status: "complete", payment_status: "paid", amount_total: 1000 });
    const completed = eventAt("checkout.session.completed", session, T);
    // The session is paid, then later updated (a newer event), and both are processed.
    await processEvents(
      [completed, eventAt("checkout.session.async_payment_succeeded", { ...session, amount_total: 1500 }, T + 60)],
      handlers,
    );
    expect(granted).toEqual([session.id]);
    expect(await billingRow("checkout_sessions", session.id)).toMatchObject({ amount_total: 1500 });

    // Both ledger rows arrived forty days ago, as far as retention can tell; it deletes them (a later
    // arrival stays as the newest row).
    await env.DB.prepare("UPDATE stripe_events SET seq = seq - ?1, received_at = received_at - ?2")
      .bind(40 * DAY * 1000, 40 * DAY)
      .run();
    await seedEvent(buildEvent("customer.created", OBJECTS.customer));
    expect(await pruneLedger(testDeps({ env: withoutArchive({ LEDGER_RETENTION_DAYS: "30" }), now: NOW }))).toBe(2);
    expect(await ledgerCount(completed.id)).toBe(0);

    // Stripe redelivers the old completion (e.g. `stripe events resend`): a new row, processed again
    // by the same handlers.
    const { queue, sent } = heldQueue();
    expect((await deliver(completed, { worker, env: envWith({ EVENTS_QUEUE: queue }) })).status).toBe(200);
    expect(sent).toEqual([completed.id]);
    expect((await runBatch(sent, { worker })).acked).toEqual([completed.id]);
    expect((await ledgerRow(completed.id))?.status).toBe("processed");
    expect(granted).toEqual([session.id]);
    expect(await billingRow("checkout_sessions", session.id)).toMatchObject({ amount_total: 1500, payment_status: "paid" });
  });
});
