import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { redriveDueEvents } from "../src/maintenance/redrive";
import { pruneLedger } from "../src/maintenance/retention";
import { createWorker } from "../src/worker";
import catalogue from "./fixtures/stripe-objects-more/entitlements-catalogue.json";
import { stripeObject } from "./helpers/billing";
import { deliver, deliverThin } from "./helpers/deliver";
import { buildEvent, uid } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { ledgerRow, seedEvent } from "./helpers/ledger";
import { observedD1, rowsWritten } from "./helpers/observed-d1";
import { thinEvent } from "./helpers/thin";
import { runBatch, testDeps } from "./helpers/worker";

// D1 bills and throttles by rows written, index entries included (its own meta.rows_written, read
// here from the real local D1). These figures are the design's budget: an index added to the ledger,
// or a status change that touches one, shows up here first.

const DAY = 86_400_000;

async function deliverObserved(event: Record<string, unknown>) {
  const { db, statements } = observedD1();
  const { queue, sent } = heldQueue();
  const response = await deliver(event, { env: envWith({ DB: db, EVENTS_QUEUE: queue }) });
  expect(response.status).toBe(200);
  return { statements, sent };
}

async function consumeObserved(id: string, handlers = billingHandlers()) {
  const { db, statements } = observedD1();
  const outcome = await runBatch([id], { worker: createWorker({ handlers }), env: envWith({ DB: db }) });
  expect(outcome.acked).toEqual([id]);
  return statements;
}

describe("D1 rows written over an event's life", () => {
  // The first event of a format also notes in job_state that the format is in use (one row, once per
  // database); the figures below are every later event's.
  beforeAll(async () => {
    const warmUp = buildEvent("customer.created", stripeObject("customer"));
    await deliverObserved(warmUp);
    await consumeObserved(warmUp.id);
    // Only the measured events are left for the retention run to delete.
    await env.DB.prepare("DELETE FROM stripe_events WHERE id = ?").bind(warmUp.id).run();
  });

  it("a checkout.session.completed: 3 to record it, 1 to claim, 2 to project, 1 to finish, 1 when retention deletes it", async () => {
    const session = stripeObject("checkoutSession", { id: uid("cs_test") });
    const event = buildEvent("checkout.session.completed", session);
    const id = event.id;

    const delivery = await deliverObserved(event);
    // The request path: one statement (the insert), the row and its two index entries (id, object_id).
    expect(delivery.statements.map((s) => s.sql.split(" ").slice(0, 3).join(" "))).toEqual(['insert into "stripe_events"']);
    expect(rowsWritten(delivery.statements)).toBe(3);
    expect(delivery.sent).toEqual([id]);

    const consumer = await consumeObserved(id);
    expect(rowsWritten(consumer, /^update "stripe_events" set "status" = \?, "attempts"/)).toBe(1); // claim
    expect(rowsWritten(consumer, /^insert into "checkout_sessions"/)).toBe(2); // the row and its customer index
    // The finish stores the payload compressed in the same row: still one row written.
    expect(rowsWritten(consumer, /^update "stripe_events" set "status" = \?, "lease_until".*"payload_encoding" = \?/)).toBe(1);
    // The charts' counters: nothing here, the sweep counts the event once it passes it (below).
    expect(rowsWritten(consumer, /^INSERT INTO ledger_hours/)).toBe(0);
    expect(rowsWritten(consumer)).toBe(4);
    expect((await ledgerRow(id))?.status).toBe("processed");

    // A later arrival, so that this event is not the newest row (which retention always keeps).
    await seedEvent(buildEvent("customer.created", stripeObject("customer")));
    const { db, statements } = observedD1();
    await pruneLedger(testDeps({ env: envWith({ LEDGER_RETENTION_DAYS: "30", DB: db, ARCHIVE: undefined }), now: Date.now() + 31 * DAY }));
    expect(await ledgerRow(id)).toBeNull();
    expect(rowsWritten(statements)).toBe(1);

    // 7 rows while it lives, 8 with its deletion (the budget: at most 8).
    expect(rowsWritten([...delivery.statements, ...consumer, ...statements])).toBe(8);
  });

  it("an event about no object (a destination ping) costs 2 rows to record: no object_id index entry", async () => {
    const { db, statements } = observedD1();
    const { queue } = heldQueue();
    const response = await deliverThin(thinEvent("v2.core.event_destination.ping", null), {
      env: envWith({ DB: db, EVENTS_QUEUE: queue }),
    });
    expect(response.status).toBe(200);
    expect(rowsWritten(statements)).toBe(2);
  });

  it("the charts' counters cost no row per event: the sweep counts an hour's arrivals in one row", async () => {
    const events = Array.from({ length: 30 }, () => buildEvent("customer.created", stripeObject("customer")));
    for (const event of events) await deliverObserved(event);
    const { db, statements } = observedD1();
    const outcome = await runBatch(
      events.map((e) => e.id),
      { worker: createWorker({ handlers: billingHandlers() }), env: envWith({ DB: db }) },
    );
    expect(outcome.acked).toHaveLength(30);
    // Claim and finish one row each per event, and the customer row: nothing for the counters.
    expect(rowsWritten(statements)).toBe(30 * 3);
    const sweep = observedD1();
    await redriveDueEvents(testDeps({ env: envWith({ DB: sweep.db, EVENTS_QUEUE: heldQueue().queue }), now: Date.now() + 10 * 60_000 }));
    // The sweep's counts (one row for the hour, or two when the events straddle an hour) and its position.
    expect(rowsWritten(sweep.statements, /^INSERT INTO ledger_hours/)).toBeLessThanOrEqual(2);
    expect(rowsWritten(sweep.statements, /^INSERT INTO job_state/)).toBe(1);
  });

  it("a duplicate delivery writes nothing", async () => {
    const event = buildEvent("customer.created", stripeObject("customer"));
    await deliverObserved(event);
    const again = await deliverObserved(event);
    expect(again.statements).toHaveLength(1);
    expect(rowsWritten(again.statements)).toBe(0);
    expect(again.sent).toEqual([]);
  });

  it("a paid checkout writes a fulfilment record only when a hook is registered: 1 to claim it, 1 to mark it done", async () => {
    const paid = () =>
      buildEvent(
        "checkout.session.completed",
        stripeObject("checkoutSession", { id: uid("cs_test"), status: "complete", payment_status: "paid" }),
      );
    const withoutHook = paid();
    await deliverObserved(withoutHook);
    expect(rowsWritten(await consumeObserved(withoutHook.id), /"fulfilments"/)).toBe(0);

    const withHook = paid();
    await deliverObserved(withHook);
    const granted: string[] = [];
    const consumer = await consumeObserved(
      withHook.id,
      billingHandlers().fulfil("checkout_session.paid", (s) => void granted.push(s.id)),
    );
    expect(granted).toHaveLength(1);
    expect(rowsWritten(consumer, /"fulfilments"/)).toBe(2);
  });

  it("the catalogue costs 1 row a product or price, and a late, older event about either 0", async () => {
    const product = { ...structuredClone(catalogue.product), id: uid("prod") };
    const price = { ...structuredClone(catalogue.price), id: uid("price"), product: product.id };
    for (const [type, object, table] of [
      ["product.created", product, "products"],
      ["price.created", price, "prices"],
    ] as const) {
      const event = buildEvent(type, object);
      await deliverObserved(event);
      // WITHOUT ROWID and no secondary index: the row is its only entry.
      expect(rowsWritten(await consumeObserved(event.id), new RegExp(`^insert into "${table}"`))).toBe(1);
      const late = buildEvent(type, object, { created: event.created - 1 });
      await deliverObserved(late);
      expect(rowsWritten(await consumeObserved(late.id), new RegExp(`"${table}"`))).toBe(0);
    }
  });

  it("an entitlement summary costs 1 row for the set and 1 per entitlement added, removed or changed; the same set again 0", async () => {
    const customer = uid("cus");
    const entitlement = (lookupKey: string) => ({
      ...structuredClone(catalogue["entitlements.active_entitlement"]),
      id: uid("ent"),
      feature: uid("feat"),
      lookup_key: lookupKey,
    });
    const summary = (entitlements: object[]) => ({
      ...structuredClone(catalogue["entitlements.active_entitlement_summary"]),
      customer,
      livemode: false,
      entitlements: { object: "list", url: "/v1/entitlements/active_entitlements", has_more: false, data: entitlements },
    });
    const [a, b, c] = [entitlement("a"), entitlement("b"), entitlement("c")];
    const type = "entitlements.active_entitlement_summary.updated";
    const written = async (entitlements: object[], created: number) => {
      const event = buildEvent(type, summary(entitlements), { created });
      await deliverObserved(event);
      const consumer = await consumeObserved(event.id);
      return {
        set: rowsWritten(consumer, /^insert into "entitlement_sets"/),
        entitlements: rowsWritten(consumer, /^(insert into|delete from) "active_entitlements"/),
      };
    };
    const t = Math.floor(Date.now() / 1000);
    expect(await written([a, b], t)).toEqual({ set: 1, entitlements: 2 });
    expect(await written([a, b], t + 1)).toEqual({ set: 1, entitlements: 0 });
    expect(await written([a, c], t + 2)).toEqual({ set: 1, entitlements: 2 }); // b removed, c added
  });

  it("an access hook costs 1 row of access state and the lifecycle event's rows, only when access changes", async () => {
    const sub = stripeObject("subscription", { id: uid("sub"), customer: uid("cus"), status: "active" });
    const handlers = billingHandlers().lifecycle("access.granted", () => {});
    const t = Math.floor(Date.now() / 1000);
    const first = buildEvent("customer.subscription.created", sub, { created: t });
    await deliverObserved(first);
    const granted = await consumeObserved(first.id, handlers);
    expect(rowsWritten(granted, /^(insert into|update) "access_states"/)).toBe(1);
    // The lifecycle event: the row, its id and object_id index entries, and its entry in the re-drive
    // index (it is due at once: the consumer sends it after the commit, the cron should that fail).
    expect(rowsWritten(granted, /^insert into "stripe_events"/)).toBe(4);

    const renewed = buildEvent("customer.subscription.updated", { ...sub, cancel_at_period_end: true }, { created: t + 1 });
    await deliverObserved(renewed);
    const unchanged = await consumeObserved(renewed.id, handlers);
    expect(rowsWritten(unchanged, /^(insert into|update) "access_states"|^insert into "stripe_events"/)).toBe(0);
  });
});
