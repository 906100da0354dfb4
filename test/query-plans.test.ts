import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { databaseSize, findReplayable, getEvent, ledgerStats, listEvents, purgeEvents, type EventFilter } from "../src/db/admin";
import { createDb } from "../src/db/client";
import { claimEvents, finishEvents, markDead, markSendFailed, pruneFinal, resetForReplay, sweepArrivals, takeDue } from "../src/db/events";
import { observedD1, type ObservedStatement } from "./helpers/observed-d1";

// Every query the product runs on the ledger — the console's lists and filters, replay and purge,
// the stats, the cron's sweep, re-drive and retention, the consumer's claim and outcome — must reach
// its rows through the primary key, an index range, or a partial index that only holds rows needing
// attention, and read rows in proportion to its answer, not to the ledger. The ledger is seeded like
// a real one: 20,000 arrivals over the 30 days retention keeps, nearly all final, a few of every other
// status. (The stats read the last day of arrivals: a thirtieth of the ledger.)

const NOW = Date.now();
const ROWS = 20_000;
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
                    CASE i % 500 WHEN 1 THEN 'received' WHEN 2 THEN 'processing' WHEN 3 THEN 'failed' WHEN 4 THEN 'dead' ELSE CASE WHEN i % 20 = 5 THEN 'ignored' ELSE 'processed' END END AS status FROM n)
       INSERT INTO stripe_events (seq, id, type, livemode, created, received_at, status, redrive_at, payload)
       SELECT at * 1000, 'evt_plan_' || i, 'type.' || (i % 25), 0, 1700000000, at, status,
              CASE WHEN status IN ('received', 'processing', 'failed') AND at * 1000 <= ${SWEPT_TO} THEN ${NOW} + 60000 END, '{}'
       FROM r`,
    ),
    env.DB.prepare("INSERT INTO job_state (key, value, updated_at) VALUES ('ledger_sweep', ?, 0)").bind(JSON.stringify({ seq: SWEPT_TO })),
  ]);
});

/** The plan and the rows read of every statement `run` made, against the seeded ledger. */
async function plansOf(run: (db: ReturnType<typeof createDb>) => Promise<unknown>): Promise<{ sql: string; plan: string[]; rowsRead: number }[]> {
  const { db, statements } = observedD1();
  await run(createDb(db));
  return Promise.all(
    statements.map(async (s: ObservedStatement) => {
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${s.sql}`).bind(...s.params).all<{ detail: string }>();
      return { sql: s.sql, plan: results.map((r) => r.detail), rowsRead: s.rowsRead };
    }),
  );
}

/** A plan step that reads all of stripe_events or one of its full indexes (partial indexes are bounded by design). */
const FULL_SCAN = /^SCAN stripe_events(?! USING (COVERING )?INDEX stripe_events_(attention|redrive)_idx)/;

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
      await purgeEvents(db, ids.slice(2, 4));
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
      const [claim] = claimEvents(db, ids, NOW);
      await claim!;
      const [finish] = finishEvents(db, ids, "processed", NOW);
      await finish!;
      await markDead(db, ["evt_plan_2003"]);
      await markSendFailed(db, ["evt_plan_2501"], NOW);
    });
  });
});
