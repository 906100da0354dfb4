import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { findArchived } from "../src/archive/lookup";
import { archiveFinalEvents } from "../src/archive/run";
import { entitlementsForUser } from "../src/billing/app-users";
import { customerView } from "../src/billing/customer-view";
import { billingObject } from "../src/billing/object";
import { batchAll, createDb } from "../src/db/client";
import { archivedHours } from "../src/db/ledger/archive-catalogue";
import { deathsSince, readAttention } from "../src/db/ledger/attention";
import { claimEvents, finishEvents, markDead } from "../src/db/ledger/consumer";
import { hourOf, readHours, sampleTotals } from "../src/db/ledger/hours";
import { purgeEvents, resetForReplay } from "../src/db/ledger/operator";
import { gzipPayload } from "../src/db/ledger/payload";
import { countReplayable, type EventFilter, findReplayable, getEvent, listEvents, SCAN_WINDOW } from "../src/db/ledger/reads";
import { databaseSize, ledgerStats, oldestUnprocessed } from "../src/db/ledger/stats";
import { objectTimeline } from "../src/db/ledger/timeline";
import { markSendFailed, pruneFinal, sweepArrivals, takeDue } from "../src/db/ledger/upkeep";
import { ENDPOINT_CHECK_STATE } from "../src/endpoint-check/check";
import { type ObservedStatement, observedD1 } from "./helpers/observed-d1";

// Every query the product runs on the ledger — the console's lists and filters, replay and purge,
// the stats, an object's timeline, the customer view, the charts' hourly aggregates, the cron's sweep,
// re-drive and retention, the consumer's claim and outcome — must reach its rows through the primary
// key, an index range, or a partial index that only holds rows needing attention, and read rows in
// proportion to its answer, not to the ledger. The ledger is seeded like a real one: 100,000 arrivals
// over the 30 days retention keeps, nearly all final, a few of every other status, about 20,000
// objects. (The stats read the last day of arrivals, a thirtieth of the ledger; a filter without an
// index reads a window of SCAN_WINDOW arrivals, a twentieth; an hour's aggregate, one hour of
// arrivals.) The billing tables hold 2,000 customers' rows.

const NOW = Date.now();
const ROWS = 100_000;
const SPAN_MS = 30 * 86_400_000;
/** Where the sweep has read up to: ten minutes ago. */
const SWEPT_TO = (NOW - 10 * 60_000) * 1000;
/** Reading a tenth of the ledger in one statement counts as reading all of it. */
const MAX_ROWS_READ = ROWS / 10;

beforeAll(async () => {
  // One row in 500 is each of received, processing, failed and dead; the rest processed or ignored.
  // Unfinished rows the sweep has passed have a re-drive time, as the sweep gives them.
  await env.DB.batch([
    env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS - 1}),
       r AS (SELECT i, ${NOW - SPAN_MS} + i * ${SPAN_MS / ROWS} AS at,
                    CASE i % 500 WHEN 1 THEN 'received' WHEN 2 THEN 'processing' WHEN 3 THEN 'failed' WHEN 4 THEN 'dead'
                    ELSE CASE WHEN i % 20 = 5 THEN 'ignored' ELSE 'processed' END END AS status
             FROM n)
       INSERT INTO stripe_events (seq, id, type, livemode, created, received_at, status, redrive_at, processed_at, object_id, payload)
       SELECT at * 1000, 'evt_plan_' || i, 'type.' || (i % 25), 0, 1700000000 + i, at, status,
              CASE WHEN status IN ('received', 'processing', 'failed') AND at * 1000 <= ${SWEPT_TO} THEN ${NOW} + 60000 END,
              CASE WHEN status IN ('processed', 'ignored') THEN at + 250 END,
              CASE i % 5 WHEN 0 THEN 'cus_plan_' || (i % 2000) WHEN 1 THEN 'sub_plan_' || (i % 4000)
                         WHEN 2 THEN 'in_plan_' || (i % 6000) WHEN 3 THEN 'pi_plan_' || (i % 4000) END,
              '{}'
       FROM r`,
    ),
    ...BILLING_SEED.map((sql) => env.DB.prepare(sql)),
    env.DB.prepare("INSERT INTO job_state (key, value, updated_at) VALUES ('ledger_sweep', ?, 0)").bind(JSON.stringify({ seq: SWEPT_TO })),
  ]);
});

/** 2,000 customers, each with 2 subscriptions, 3 invoices, 2 payment intents, a checkout session, a refunded charge and a fulfilment. */
const BILLING_SEED = [
  ["customers (id, email, name, deleted", "'cus_plan_' || i, 'c' || i || '@example.com', NULL, 0", 2000],
  [
    "subscriptions (id, customer_id, status, price_ids, current_period_end, cancel_at_period_end",
    "'sub_plan_' || i, 'cus_plan_' || (i % 2000), CASE WHEN i % 3 = 0 THEN 'canceled' ELSE 'active' END, '[\"price_1\"]', 1800000000, 0",
    4000,
  ],
  [
    "invoices (id, customer_id, subscription_id, status, amount_paid, amount_due, currency",
    "'in_plan_' || i, 'cus_plan_' || (i % 2000), 'sub_plan_' || (i % 4000), 'paid', 1000, 1000, 'usd'",
    6000,
  ],
  [
    "payment_intents (id, customer_id, status, amount, amount_received, currency",
    "'pi_plan_' || i, 'cus_plan_' || (i % 2000), 'succeeded', 1000, 1000, 'usd'",
    4000,
  ],
  [
    "checkout_sessions (id, customer_id, mode, status, payment_status, payment_intent_id, amount_total, currency",
    "'cs_plan_' || i, 'cus_plan_' || (i % 2000), 'payment', 'complete', 'paid', 'pi_plan_' || i, 1000, 'usd'",
    2000,
  ],
  [
    "charges (id, customer_id, payment_intent_id, status, amount, amount_refunded, refunded, currency",
    "'ch_plan_' || i, 'cus_plan_' || (i % 2000), 'pi_plan_' || i, 'succeeded', 1000, 1000, 1, 'usd'",
    2000,
  ],
]
  .map(
    ([columns, values, n]) =>
      `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${Number(n) - 1})
     INSERT INTO ${columns}, livemode, last_event_created, last_event_id, updated_at)
     SELECT ${values}, 0, 1700000000 + i, 'evt_plan_' || i, 0 FROM n`,
  )
  .concat(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999)
   INSERT INTO fulfilments (object_id, kind, status, event_id, claimed_until, completed_at)
   SELECT 'cs_plan_' || i, 'checkout_session.paid', 'done', 'evt_plan_' || i, 0, 0 FROM n`,
  );

/** The plan and the rows read of every statement `run` made, against the seeded ledger. */
async function plansOf(
  run: (db: ReturnType<typeof createDb>) => Promise<unknown>,
): Promise<{ sql: string; plan: string[]; rowsRead: number }[]> {
  const { db, statements } = observedD1();
  await run(createDb(db));
  return Promise.all(
    statements.map(async (s: ObservedStatement) => {
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${s.sql}`)
        .bind(...s.params)
        .all<{ detail: string }>();
      return { sql: s.sql, plan: results.map((r) => r.detail), rowsRead: s.rowsRead };
    }),
  );
}

/**
 * A plan step that reads all of stripe_events or one of its full indexes (partial indexes are bounded
 * by design: the attention and re-drive indexes hold only rows that need someone), or a whole billing table.
 */
const WHOLE_TABLES = "customers|subscriptions|invoices|checkout_sessions|payment_intents|charges|fulfilments|ledger_hours";
const FULL_SCAN = new RegExp(`^SCAN (stripe_events(?! USING (COVERING )?INDEX stripe_events_(attention|redrive)_idx)|${WHOLE_TABLES})\\b`);

async function expectNoFullScan(run: (db: ReturnType<typeof createDb>) => Promise<unknown>): Promise<void> {
  const plans = await plansOf(run);
  expect(plans.length).toBeGreaterThan(0);
  for (const { sql, plan, rowsRead } of plans) {
    expect({ sql, scans: plan.filter((step) => FULL_SCAN.test(step)) }).toEqual({ sql, scans: [] });
    expect(rowsRead, `rows read by ${sql}`).toBeLessThan(MAX_ROWS_READ);
  }
}

const FILTERS: [string, EventFilter][] = [
  ["no filter", {}],
  ["one type", { type: "type.3" }],
  ["dead", { statuses: ["dead"] }],
  ["failed or dead", { statuses: ["failed", "dead"] }],
  ["received", { statuses: ["received"] }],
  ["processing or failed", { statuses: ["processing", "failed"] }],
  ["received or dead", { statuses: ["received", "dead"] }],
  ["processed", { statuses: ["processed"] }],
  ["processed or dead", { statuses: ["processed", "dead"] }],
  ["ignored of one type", { statuses: ["ignored"], type: "type.5" }],
  ["an arrival time range", { receivedFrom: NOW - 3 * 86_400_000, receivedTo: NOW - 2 * 86_400_000 }],
  ["dead of one type in a time range", { statuses: ["dead"], type: "type.7", receivedFrom: NOW - 5 * 86_400_000 }],
];

describe("query plans on a seeded ledger", () => {
  it.each(FILTERS)("the console list with %s reads no whole table, first page and next", async (_name, filter) => {
    await expectNoFullScan(async (db) => {
      const { next } = await listEvents(db, filter, null, 50);
      await listEvents(db, filter, next ?? (NOW - 86_400_000) * 1000, 50);
    });
  });

  // Filters naming only statuses that cannot be replayed make no query at all.
  const REPLAY_FILTERS = FILTERS.filter(([, f]) => !f.statuses || f.statuses.some((s) => s === "dead" || s === "failed"));
  it.each(REPLAY_FILTERS)("bulk replay and purge with %s read no whole table", async (_name, filter) => {
    await expectNoFullScan(async (db) => {
      const { ids } = await findReplayable(db, filter, null, 50);
      await resetForReplay(db, ids.slice(0, 2), NOW);
      await purgeEvents(db, ids.slice(2, 4), NOW);
    });
  });

  it("a filter without an index reads one window of arrivals per page, and pages on where it ended", async () => {
    const { db, statements } = observedD1();
    const { events, next } = await listEvents(createDb(db), { type: "type.3" }, null, 50);
    expect(events.length).toBe(50);
    const rare = await listEvents(createDb(db), { type: "type.none" }, null, 50);
    expect(rare).toMatchObject({ events: [], next: expect.any(Number), window: { rowsRead: SCAN_WINDOW } });
    expect(next).toBeGreaterThan(rare.next!);
    for (const s of statements) expect(s.rowsRead, s.sql).toBeLessThanOrEqual(SCAN_WINDOW + 1);
  });

  it("an object's timeline, an event's object and the customer view read no whole table", async () => {
    await expectNoFullScan(async (db) => {
      await objectTimeline(db, "sub_plan_7", "");
      await objectTimeline(db, "evt_plan_42", "");
      await billingObject(db, "sub_plan_7", "");
      await billingObject(db, "cus_plan_7", "");
      await billingObject(db, "prod_plan_7", "acct_plan");
      await customerView(db, { account: "", customerId: "cus_plan_7" }, { pastDueGrantsAccess: true });
      await entitlementsForUser(db, "", "user_plan_7", { pastDueGrantsAccess: false });
    });
  });

  it("the confirmation's count of a bulk replay reads no whole table", async () => {
    await expectNoFullScan(async (db) => {
      await countReplayable(db, {});
      await countReplayable(db, { statuses: ["dead"], type: "type.7", receivedFrom: NOW - 5 * 86_400_000 });
    });
  });

  it("the charts' hourly aggregates: the cron samples the attention index, the page reads ledger_hours", async () => {
    await expectNoFullScan(async (db) => {
      await sampleTotals(db, hourOf(NOW), NOW);
      await readHours(db, hourOf(NOW) - 7 * 86_400_000, hourOf(NOW) + 3_600_000);
    });
  });

  it("the alerts' checks read no whole table: deaths since the last alert, the oldest unprocessed event, parked thin events", async () => {
    await expectNoFullScan(async (db) => {
      await deathsSince(db, NOW - 86_400_000);
      await oldestUnprocessed(db);
      await readAttention(db, ENDPOINT_CHECK_STATE);
    });
  });

  it("the stats, one event and the database size read no whole table", async () => {
    await expectNoFullScan(async (db) => {
      await ledgerStats(db, NOW);
      await getEvent(db, "evt_plan_42");
      await databaseSize(db);
    });
  });

  it("the cron's sweep, re-drive and retention read no whole table", async () => {
    await expectNoFullScan(async (db) => {
      await sweepArrivals(db, SWEPT_TO, NOW, 5000);
      await takeDue(db, NOW + 3_600_000, 500);
      await pruneFinal(db, NOW - 5 * 86_400_000, 100);
    });
  });

  it("the consumer's claim and outcomes, the dead-letter mark and a failed send's reschedule read no whole table", async () => {
    const ids = ["evt_plan_501", "evt_plan_1001", "evt_plan_1503"];
    await expectNoFullScan(async (db) => {
      await batchAll(db, claimEvents(db, ids, NOW).statements);
      const gzip = await gzipPayload("{}");
      await batchAll(
        db,
        finishEvents(
          db,
          ids.map((id) => ({ id, gzip })),
          "processed",
          NOW,
        ),
      );
      await markDead(db, ["evt_plan_2003"], NOW);
      await markSendFailed(db, ["evt_plan_2501"], NOW);
    });
  });

  // Last: it moves the oldest final rows of the seeded ledger to R2 (and deletes them).
  it("the archive's retention, an archived event's lookup and the archive's listing read no whole table", async () => {
    const report = { parts: 0, archived: 0, deleted: 0 };
    await expectNoFullScan(async (db) => {
      await archiveFinalEvents(db, env.ARCHIVE, NOW - 25 * 86_400_000, 4_000, NOW, report);
      await findArchived(db, env.ARCHIVE, "evt_plan_105");
      await archivedHours(db, 0, NOW, 168);
    });
    expect(report.deleted).toBe(4_000);
  });
});
