import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { lagOf, pending } from "../src/console/views/hour-figures";
import { createDb } from "../src/db/client";
import { HOUR_MS, hourOf, readChartHours, readHours, UNCOUNTED_LIMIT } from "../src/db/ledger/hours";
import { Handlers } from "../src/handlers/registry";
import { seqAt } from "../src/ledger/event";
import { lagBucket } from "../src/ledger/lag";
import { CHART_HOURS, refreshLedgerHours } from "../src/maintenance/ledger-hours";
import { redriveDueEvents } from "../src/maintenance/redrive";
import { createWorker } from "../src/worker";
import { ADMIN_TOKEN, adminCall, ORIGIN } from "./helpers/admin";
import { envWith, heldQueue } from "./helpers/faults";
import { keptHours } from "./helpers/hours-oracle";
import { type ObservedStatement, observedD1 } from "./helpers/observed-d1";
import { testDeps } from "./helpers/worker";

// The charts on a ledger of a million rows: 30 days of arrivals (retention's default), ≈ 1,400 an hour.
// The counters are kept by the moves (test/ledger-hours.test.ts checks them against a recompute); here,
// at scale: the sweep counts each arrival once, reading the arrivals it passes and nothing more; the
// cron's own job reads only the failed and dead rows; the page reads only `ledger_hours`.

const ROWS = 1_000_000;
const SPAN_MS = 30 * 86_400_000;
const NOW = hourOf(Date.now()) + 30 * 60_000;
const START = NOW - SPAN_MS;
const STEP = SPAN_MS / ROWS;
const current = hourOf(NOW);
const weekFrom = current - CHART_HOURS * HOUR_MS;

beforeAll(async () => {
  // Statuses: 1 in 500 each received, processing, failed, dead; 1 in 20 ignored; the rest processed,
  // with a received → processed lag spread over 0.1–30 s.
  const started = Date.now();
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS - 1}),
     r AS (SELECT i, ${START} + CAST(i * ${STEP} AS INTEGER) AS at,
                  CASE i % 500 WHEN 1 THEN 'received' WHEN 2 THEN 'processing' WHEN 3 THEN 'failed' WHEN 4 THEN 'dead'
                  ELSE CASE WHEN i % 20 = 5 THEN 'ignored' ELSE 'processed' END END AS status
           FROM n)
     INSERT INTO stripe_events (seq, id, type, livemode, created, received_at, status, processed_at, object_id, payload)
     SELECT at * 1000, 'evt_scale_' || i, 'type.' || (i % 25), 0, at / 1000, at, status,
            CASE WHEN status IN ('processed', 'ignored') THEN at + 100 + (i * 7919) % 29900 END, 'cus_scale_' || (i % 50000), '{}'
     FROM r`,
  ).run();
  console.log(`seeded ${ROWS} rows in ${Date.now() - started} ms`);
  // The sweep's position at the start of the week the charts show.
  await env.DB.prepare("INSERT INTO job_state (key, value, updated_at) VALUES ('ledger_sweep', ?, 0)")
    .bind(JSON.stringify({ seq: seqAt(weekFrom) - 1 }))
    .run();
  // The sweep's runs over the week, which count its arrivals with their statuses: 50,000 a run, a minute apart.
  const { db, statements } = observedD1();
  for (let run = 0; run * 50_000 < WEEK_ARRIVALS + 50_000; run++) {
    await redriveDueEvents(testDeps({ env: envWith({ DB: db, EVENTS_QUEUE: heldQueue().queue }), now: NOW + 10 * 60_000 + run * 60_000 }));
  }
  sweepStatements.push(...statements);
}, 600_000);

/** The arrivals of the week the charts show. */
const WEEK_ARRIVALS = ROWS * ((NOW - weekFrom) / SPAN_MS);
/** What the sweep's runs over the week asked D1, with D1's own figures. */
const sweepStatements: ObservedStatement[] = [];

/** A plan step that reads all of stripe_events or one of its full indexes. */
const FULL_SCAN = /^SCAN stripe_events(?! USING (COVERING )?INDEX stripe_events_(attention|redrive)_idx)/;

async function planOf(sql: string, params: unknown[]): Promise<string[]> {
  const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .bind(...params)
    .all<{ detail: string }>();
  return results.map((r) => r.detail);
}

/** Nearest-rank percentile of sorted values, as the aggregate defines it. */
function nearestRank(sorted: number[], p: number): number | null {
  return sorted.length === 0 ? null : sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
}

describe("charts on a seeded ledger of a million rows", () => {
  it("the sweep counts each arrival of the week once, reading the arrivals it passes a few times, never the ledger", async () => {
    const kept = await keptHours();
    const { results } = await env.DB.prepare(
      `SELECT seq / ${seqAt(HOUR_MS)} * ${HOUR_MS} AS hour, count(*) AS n FROM stripe_events WHERE seq >= ? GROUP BY 1`,
    )
      .bind(seqAt(weekFrom))
      .all<{ hour: number; n: number }>();
    for (const { hour, n } of results) expect(kept.get(hour)?.arrivals, new Date(hour).toISOString()).toBe(n);
    for (const s of sweepStatements) {
      const plan = await planOf(s.sql, s.params);
      expect(plan.filter((step) => FULL_SCAN.test(step))).toEqual([]);
    }
    // Every arrival is read by the few statements of its window (the re-drive update, the count, the
    // position: about 8 rows read as D1 counts them, once in its life), never again by a later run.
    const read = sweepStatements.reduce((n, s) => n + s.rowsRead, 0);
    expect(read).toBeLessThan(10 * WEEK_ARRIVALS);
  });

  it("the cron's own job reads the failed and dead rows only, however many arrivals there are", async () => {
    const { db, statements } = observedD1();
    await refreshLedgerHours(testDeps({ env: envWith({ DB: db }), now: NOW }));
    expect(statements).toHaveLength(1);
    expect(await planOf(statements[0]!.sql, statements[0]!.params)).toContainEqual(
      expect.stringMatching(/^SEARCH stripe_events USING COVERING INDEX stripe_events_attention_idx/),
    );
    expect(statements[0]!.rowsRead).toBeLessThan(3 * 2 * (ROWS / 500));
  });

  it("holds the rows' own figures: counts by status, lag percentiles, failed and dead totals", async () => {
    await refreshLedgerHours(testDeps({ now: NOW }));
    const hours = await readHours(createDb(env.DB), weekFrom, current + HOUR_MS);
    expect(hours).toHaveLength(CHART_HOURS + 1);
    const { results: counts } = await env.DB.prepare(
      `SELECT (seq / ${seqAt(HOUR_MS)}) * ${HOUR_MS} AS hour, status, count(*) AS n FROM stripe_events WHERE seq >= ? GROUP BY 1, 2`,
    )
      .bind(seqAt(weekFrom))
      .all<{ hour: number; status: string; n: number }>();
    const { results: lags } = await env.DB.prepare(
      `SELECT (seq / ${seqAt(HOUR_MS)}) * ${HOUR_MS} AS hour, processed_at - received_at AS lag
       FROM stripe_events WHERE seq >= ? AND status IN ('processed', 'ignored') ORDER BY 1, 2`,
    )
      .bind(seqAt(weekFrom))
      .all<{ hour: number; lag: number }>();
    for (const row of hours) {
      const of = (status: string) => counts.find((c) => c.hour === row.hour && c.status === status)?.n ?? 0;
      const sorted = lags.filter((l) => l.hour === row.hour).map((l) => l.lag);
      expect(row).toMatchObject({
        arrivals: of("received") + of("processing") + of("processed") + of("ignored") + of("failed") + of("dead"),
        processed: of("processed"),
        ignored: of("ignored"),
        failed: of("failed"),
        dead: of("dead"),
      });
      expect(pending(row)).toBe(of("received") + of("processing"));
      // The percentiles drawn are within the bucket of the exact ones.
      for (const p of [50, 95] as const) expect(lagBucket(lagOf(row, p)!)).toBe(lagBucket(nearestRank(sorted, p)!));
    }
    expect(hours.reduce((n, h) => n + h.arrivals, 0)).toBe(counts.reduce((n, c) => n + c.n, 0));
    const totals = await env.DB.prepare(
      "SELECT status, count(*) AS n FROM stripe_events WHERE status IN ('failed', 'dead') GROUP BY status",
    ).all<{ status: string; n: number }>();
    expect(hours.at(-1)).toMatchObject({
      failedTotal: totals.results.find((t) => t.status === "failed")!.n,
      deadTotal: totals.results.find((t) => t.status === "dead")!.n,
    });
  });

  it("draws a week from at most one row per hour of ledger_hours, by its primary key", async () => {
    const { db, statements } = observedD1();
    await readHours(createDb(db), weekFrom, current + HOUR_MS);
    expect(statements).toHaveLength(1);
    expect(await planOf(statements[0]!.sql, statements[0]!.params)).toEqual([
      expect.stringMatching(/^SEARCH ledger_hours USING PRIMARY KEY \(hour>\? AND hour<\?\)$/),
    ]);
    expect(statements[0]!.rowsRead).toBeLessThanOrEqual(CHART_HOURS + 1);
  });

  it("draws the charts page from those rows: inline SVG whose bars carry the ledger's own counts", async () => {
    const worker = createWorker({ handlers: new Handlers(), now: () => NOW });
    const fetchPage = (path: string, init: RequestInit = {}) => adminCall(path, { ...init, worker });
    const login = await fetchPage("/admin/login", {
      method: "POST",
      headers: { origin: ORIGIN },
      body: new URLSearchParams({ token: ADMIN_TOKEN }),
    });
    const html = await (await fetchPage("/admin/charts", { headers: { cookie: login.headers.get("set-cookie")!.split(";")[0]! } })).text();
    expect(html.match(/<svg class="chart"/g)).toHaveLength(4);
    expect(html).not.toMatch(/<script|\sstyle=/);

    const hour = current - HOUR_MS;
    const { results } = await env.DB.prepare("SELECT status, count(*) AS n FROM stripe_events WHERE seq >= ? AND seq < ? GROUP BY status")
      .bind(seqAt(hour), seqAt(hour + HOUR_MS))
      .all<{ status: string; n: number }>();
    const of = (...statuses: string[]) => results.filter((r) => statuses.includes(r.status)).reduce((n, r) => n + r.n, 0);
    const bars = [
      ...html.matchAll(new RegExp(`data-hour="${new Date(hour).toISOString()}" data-status="(\\w+)" data-count="(\\d+)"`, "g")),
    ].map((m) => [m[1], Number(m[2])]);
    // The hour is drawn in both the 24-hour and the 7-day chart.
    const expected = [
      ["processed", of("processed")],
      ["ignored", of("ignored")],
      ["pending", of("received", "processing")],
      ["failed", of("failed")],
      ["dead", of("dead")],
    ].filter(([, n]) => n !== 0);
    expect(bars).toEqual([...expected, ...expected]);
    expect(html.match(/<polyline class="c-p50"/g)?.length).toBeGreaterThan(0);
  });

  it("read at most the newest 5,000 uncounted arrivals, by the primary key, when the sweep is a week behind", async () => {
    const { value } = (await env.DB.prepare("SELECT value FROM job_state WHERE key = 'ledger_sweep'").first<{ value: string }>())!;
    await env.DB.prepare("UPDATE job_state SET value = ? WHERE key = 'ledger_sweep'")
      .bind(JSON.stringify({ seq: seqAt(weekFrom) - 1 }))
      .run();
    try {
      const { db, statements } = observedD1();
      const rows = await readChartHours(createDb(db), weekFrom, current + HOUR_MS);
      expect(statements).toHaveLength(2);
      const tail = statements.find((st) => st.sql.includes("arrival_hour"))!;
      expect((await planOf(tail.sql, tail.params)).filter((step) => FULL_SCAN.test(step))).toEqual([]);
      // D1 counts each row twice: read, and its lag bucket's one-row subquery.
      expect(tail.rowsRead).toBeLessThanOrEqual(2 * UNCOUNTED_LIMIT + 10);
      // What it read is the newest arrivals: the current hour's, added to its counted figures.
      const kept = (await keptHours()).get(current)!;
      expect(rows.find((r) => r.hour === current)!.arrivals).toBeGreaterThan(kept.arrivals);
    } finally {
      await env.DB.prepare("UPDATE job_state SET value = ? WHERE key = 'ledger_sweep'").bind(value).run();
    }
  });
});
