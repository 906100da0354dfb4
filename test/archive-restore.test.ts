import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { HOUR_MS, hourOf } from "../src/db/ledger/hours";
import { redriveDueEvents } from "../src/maintenance/redrive";
import { pruneLedger } from "../src/maintenance/retention";
import { createWorker } from "../src/worker";
import { adminApi, adminCall, adminEnv } from "./helpers/admin";
import { clearArchive, committedParts, ledgerCountWith, seedFinal } from "./helpers/archive";
import { billingRow, eventAt, processEvents, stripeObject } from "./helpers/billing";
import { buildEvent, OBJECTS, uid } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { keptHours, recomputeFromLedger } from "./helpers/hours-oracle";
import { clearLedger, ledgerRow, seedEvent } from "./helpers/ledger";
import { firings, lifecycleEnv, pendingLifecycleEvents, processWithLifecycle, recordingLifecycle } from "./helpers/lifecycle";
import { runBatch, testDeps } from "./helpers/worker";

// A restore brings archived events back into the ledger and replays them: `npm run archive:restore`
// calls POST /admin/api/archive/restore until next_cursor is null.

const DAY = 86_400_000;
const NOW = Date.now();
const archiveNow = (now = NOW) => pruneLedger(testDeps({ env: envWith({ LEDGER_RETENTION_DAYS: "7" }), now }));

beforeEach(async () => {
  await clearLedger();
  await clearArchive();
  await env.DB.prepare("DELETE FROM ledger_hours").run();
});

/** Calls the restore endpoint until the range is done; returns the totals and how many calls it took. */
async function restore(from: number, to: number, testEnv = adminEnv({ EVENTS_QUEUE: heldQueue().queue })) {
  const total = { calls: 0, parts: 0, restored: 0, replayed: 0 };
  let cursor: string | null = null;
  do {
    const query = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
    if (cursor) query.set("cursor", cursor);
    const { status, body } = await adminApi(`/archive/restore?${query}`, { method: "POST", env: testEnv });
    expect(status).toBe(200);
    total.calls++;
    total.parts += body.parts;
    total.restored += body.restored;
    total.replayed += body.replayed;
    cursor = body.next_cursor;
  } while (cursor !== null);
  return total;
}

describe("restoring from the archive", () => {
  it("puts a range back one part per call, replayed and sent to the queue, and restoring twice records nothing twice", async () => {
    const hour = hourOf(NOW - 10 * DAY);
    const inRange = await seedFinal(90, hour + 60_000, 60_000); // 90 minutes: two hours, two parts
    const outside = await seedFinal(5, hour + 5 * HOUR_MS, 1000);
    await seedEvent(buildEvent("customer.created", OBJECTS.customer));
    await archiveNow();
    expect(await ledgerCountWith(inRange)).toBe(0);

    const { queue, sent } = heldQueue();
    const first = await restore(hour, hour + 2 * HOUR_MS, adminEnv({ EVENTS_QUEUE: queue }));
    expect(first).toEqual({ calls: 2, parts: 2, restored: 90, replayed: 90 });
    expect(await ledgerCountWith(inRange)).toBe(90);
    expect(await ledgerCountWith(outside)).toBe(0);
    expect(new Set(sent)).toEqual(new Set(Array.from({ length: 90 }, (_, i) => `${inRange}_${i}`)));
    // Restored as archived, then replayed in the same transaction: received, attempts 0, due for the cron.
    expect(await ledgerRow(`${inRange}_0`)).toMatchObject({ status: "received", attempts: 0, payload_encoding: null });

    const again = await restore(hour, hour + 2 * HOUR_MS);
    expect(again).toEqual({ calls: 2, parts: 2, restored: 0, replayed: 0 });
    expect(await ledgerCountWith(inRange)).toBe(90);
  });

  it("fulfils nothing again: a paid checkout archived, restored and processed runs its hook once in all", async () => {
    const granted: string[] = [];
    const handlers = billingHandlers().fulfil("checkout_session.paid", (session) => void granted.push(session.id));
    const session = stripeObject("checkoutSession", { id: uid("cs_test"), status: "complete", payment_status: "paid", amount_total: 1000 });
    const completed = eventAt("checkout.session.completed", session, Math.floor((NOW - 10 * DAY) / 1000));
    await processEvents([completed], handlers);
    expect(granted).toEqual([session.id]);
    // It arrived ten days ago, as far as retention can tell; a later arrival stays as the newest row.
    await env.DB.prepare(
      "UPDATE stripe_events SET seq = seq - ?1, received_at = received_at - ?2, processed_at = processed_at - ?2 WHERE id = ?3",
    )
      .bind(10 * DAY * 1000, 10 * DAY, completed.id)
      .run();
    await seedEvent(buildEvent("customer.created", OBJECTS.customer));
    await archiveNow();
    expect(await ledgerRow(completed.id)).toBeNull();

    const { queue, sent } = heldQueue();
    const hour = hourOf(NOW - 10 * DAY);
    expect(await restore(hour - HOUR_MS, hour + 2 * HOUR_MS, adminEnv({ EVENTS_QUEUE: queue }))).toMatchObject({ restored: 1 });
    expect(sent).toEqual([completed.id]);
    expect((await runBatch(sent, { worker: createWorker({ handlers }) })).acked).toEqual([completed.id]);
    expect((await ledgerRow(completed.id))?.status).toBe("processed");
    expect(granted).toEqual([session.id]);
    expect(await billingRow("checkout_sessions", session.id)).toMatchObject({ payment_status: "paid", amount_total: 1000 });
  });

  it("puts an archived lifecycle event back as it was, and its hook does not fire again", async () => {
    const { handlers, fired } = recordingLifecycle();
    const customer = uid("cus");
    const subscription = stripeObject("subscription", { id: uid("sub"), customer, status: "active" });
    const created = eventAt("customer.subscription.created", subscription, Math.floor((NOW - 10 * DAY) / 1000));
    await processWithLifecycle([created], handlers);
    const granted = `lc_access_p_${customer}_1`;
    expect(firings(fired)).toEqual([`access.granted ${customer}`]);
    // Both rows arrived ten days ago, as far as retention can tell; a later arrival stays as the newest row.
    await env.DB.prepare("UPDATE stripe_events SET seq = seq - ?1, received_at = received_at - ?2, processed_at = processed_at - ?2")
      .bind(10 * DAY * 1000, 10 * DAY)
      .run();
    await seedEvent(buildEvent("customer.created", OBJECTS.customer));
    await archiveNow();
    expect(await ledgerRow(granted)).toBeNull();

    const { queue, sent } = heldQueue();
    const hour = hourOf(NOW - 10 * DAY);
    expect(await restore(hour - HOUR_MS, hour + 2 * HOUR_MS, adminEnv({ EVENTS_QUEUE: queue }))).toMatchObject({
      restored: 2,
      replayed: 1,
    });
    // The transition happened once: its event is back for the record, processed, and not replayed.
    expect(sent).toEqual([created.id]);
    expect(await ledgerRow(granted)).toMatchObject({ format: "lifecycle", status: "processed", attempts: 1 });
    await runBatch(sent, { handlers, env: lifecycleEnv() });
    expect(await pendingLifecycleEvents()).toEqual([]);
    expect(firings(fired)).toEqual([`access.granted ${customer}`]);
  });

  it("keeps the charts' counters as a recompute finds them through archive, restore and processing again", async () => {
    const hour = hourOf(NOW - 2 * HOUR_MS);
    const ids = Array.from({ length: 6 }, () => buildEvent("customer.created", OBJECTS.customer));
    for (const [i, e] of ids.entries()) await seedEvent(e, hour + 60_000 + i * 1000);
    await runBatch(
      ids.map((e) => e.id),
      { handlers: billingHandlers(), env: envWith({ EVENTS_QUEUE: heldQueue().queue }), now: () => hour + 120_000 },
    );
    await seedEvent(buildEvent("customer.created", OBJECTS.customer));
    // The sweep passes them (counting them, processed) before they are archived.
    await redriveDueEvents(testDeps({ env: envWith({ EVENTS_QUEUE: heldQueue().queue }), now: NOW + 10 * 60_000 }));
    const before = (await recomputeFromLedger()).get(hour)!;
    expect((await keptHours()).get(hour)).toMatchObject({ arrivals: before.arrivals, processed: before.processed });
    // Archive with a clock 8 days on; the hour keeps its figures.
    await archiveNow(NOW + 8 * DAY);
    expect(await ledgerCountWith(ids[0]!.id.slice(0, -1))).toBe(0);
    const { queue, sent } = heldQueue();
    await restore(hour, hour + HOUR_MS, adminEnv({ EVENTS_QUEUE: queue }));
    expect((await keptHours()).get(hour)).toMatchObject({ processed: before.processed - 6 });
    await runBatch(sent, { handlers: billingHandlers(), env: envWith({ EVENTS_QUEUE: heldQueue().queue }), now: () => NOW });
    expect((await keptHours()).get(hour)).toMatchObject({ processed: before.processed, ignored: before.ignored, failed: 0, dead: 0 });
    expect((await committedParts()).length).toBe(1);
  });

  it.each([
    ["no from", "to=2026-11-02T00:00Z", /from and to are required/],
    ["no to", "from=2026-11-02T00:00Z", /from and to are required/],
    ["from after to", "from=2026-11-03T00:00Z&to=2026-11-02T00:00Z", /from must be before to/],
    ["a time that is none", "from=yesterday&to=2026-11-02T00:00Z", /from must be an ISO 8601 time/],
    ["a cursor this API never gave", "from=0&to=1&cursor=evt_1", /cursor is not one this API returned/],
  ])("refuses a restore with %s (400 request_invalid)", async (_name, query, message) => {
    const { status, body } = await adminApi(`/archive/restore?${query}`, { method: "POST" });
    expect(status).toBe(400);
    expect(body.error).toEqual({ code: "request_invalid", message: expect.stringMatching(message) });
  });

  it("is refused without the admin token (401), as every admin API call is", async () => {
    const response = await adminCall("/admin/api/archive/restore?from=0&to=1", {
      method: "POST",
      headers: { authorization: "Bearer not-the-admin-token-0123456789abcdef" },
    });
    expect(response.status).toBe(401);
    expect(await ledgerCountWith("evt_")).toBe(0);
  });
});
