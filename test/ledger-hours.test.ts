import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { HOUR_MS, hourOf, readHours, recomputeHour } from "../src/db/ledger/hours";
import { CHART_HOURS, hourInTurn, refreshLedgerHours } from "../src/maintenance/ledger-hours";
import { buildEvent, OBJECTS } from "./helpers/events";
import { clearLedger, seedEvent, setRow } from "./helpers/ledger";
import { observedD1, rowsWritten } from "./helpers/observed-d1";
import { testDeps } from "./helpers/worker";

// The charts' hourly aggregates, kept by the every-minute cron from bounded reads of the ledger.
// (test/charts-scale.test.ts checks them on a large seeded ledger.)

// A minute into the current hour: a test that runs the cron for up to 46 minutes from NOW stays in
// one hour, whatever the wall clock (an hour crossed halfway shifts every hour's offset by one, and
// the hour a test waits for could be skipped by the turn).
const NOW = hourOf(Date.now()) + 60_000;
const HOUR = hourOf(NOW);

beforeEach(async () => {
  await clearLedger();
  await env.DB.prepare("DELETE FROM ledger_hours").run();
});

/** An event that arrived at `receivedAt` and is now `status`, processed `lagMs` later when final. */
async function arrival(receivedAt: number, status: string, lagMs: number | null = null): Promise<string> {
  const e = buildEvent("customer.created", OBJECTS.customer);
  await seedEvent(e, receivedAt);
  await setRow(e.id, { status, redrive_at: null, processed_at: lagMs === null ? null : receivedAt + lagMs });
  return e.id;
}

const row = async (hour: number) => (await readHours(createDb(env.DB), hour, hour + HOUR_MS))[0];

describe("hourly ledger aggregates", () => {
  it("counts an hour's arrivals by status and its processing lag as nearest-rank p50 and p95", async () => {
    // 20 processed arrivals with lags of 1 … 20 s: p50 is the 10th smallest, p95 the 19th.
    for (let i = 1; i <= 20; i++) await arrival(HOUR + i, "processed", i * 1000);
    await arrival(HOUR + 100, "ignored", 500);
    await arrival(HOUR + 101, "failed");
    await arrival(HOUR + 102, "dead");
    await arrival(HOUR + 103, "received");
    await arrival(HOUR - 1, "processed", 1); // the previous hour

    await refreshLedgerHours(testDeps({ now: NOW }));
    expect(await row(HOUR)).toMatchObject({
      received: 1,
      processing: 0,
      processed: 20,
      ignored: 1,
      failed: 1,
      dead: 1,
      lagP50Ms: 10_000,
      lagP95Ms: 19_000,
    });
    expect(await row(HOUR - HOUR_MS)).toMatchObject({ processed: 1, ignored: 0, lagP50Ms: 1, lagP95Ms: 1 });
  });

  it("samples the failed and dead totals of the whole ledger into the current hour only", async () => {
    await arrival(HOUR - 30 * HOUR_MS, "dead");
    await arrival(HOUR - 30 * HOUR_MS + 1, "failed");
    await arrival(HOUR - HOUR_MS + 5, "dead");
    await refreshLedgerHours(testDeps({ now: NOW }));
    expect(await row(HOUR)).toMatchObject({ failedTotal: 1, deadTotal: 2 });
    expect(await row(HOUR - HOUR_MS)).toMatchObject({ dead: 1, failedTotal: null, deadTotal: null });
  });

  it("rewrites an hour's row only when its figures changed", async () => {
    const id = await arrival(HOUR + 1, "received");
    const recompute = async () => {
      const { db, statements } = observedD1();
      await recomputeHour(createDb(db), HOUR, NOW, true);
      return rowsWritten(statements);
    };
    expect(await recompute()).toBe(1);
    expect(await recompute()).toBe(0);
    await setRow(id, { status: "processed", processed_at: HOUR + 2 });
    expect(await recompute()).toBe(1);
    expect(await row(HOUR)).toMatchObject({ received: 0, processed: 1, lagP50Ms: 1 });
  });

  it("fills the hours of the last week that have no row, newest first, one per run", async () => {
    const old = HOUR - 100 * HOUR_MS;
    await arrival(old + 10, "processed", 20);
    for (let run = 0; run < CHART_HOURS; run++) await refreshLedgerHours(testDeps({ now: NOW }));
    expect(await row(old)).toMatchObject({ processed: 1, lagP50Ms: 20 });
    // Every hour of the week has a row, empty ones included, so nothing is looked for again.
    const week = await readHours(createDb(env.DB), HOUR - CHART_HOURS * HOUR_MS, HOUR + HOUR_MS);
    expect(week).toHaveLength(CHART_HOURS + 1);
  });

  it("recomputes an older hour in turn, so a later death shows in its arrival hour", async () => {
    const id = await arrival(HOUR - 5 * HOUR_MS, "failed");
    for (let run = 0; run < CHART_HOURS; run++) await refreshLedgerHours(testDeps({ now: NOW + run * 60_000 }));
    expect(await row(HOUR - 5 * HOUR_MS)).toMatchObject({ failed: 1, dead: 0 });
    await setRow(id, { status: "dead" });
    // Within 46 runs every hour from 2 to 47 back has been recomputed once.
    for (let run = 0; run < 46; run++) await refreshLedgerHours(testDeps({ now: NOW + run * 60_000 }));
    expect(await row(HOUR - 5 * HOUR_MS)).toMatchObject({ failed: 0, dead: 1 });
  });

  it("comes round to every hour 2 to 47 back within 46 minutes, from any start minute, across the turn of an hour", () => {
    const start = hourOf(NOW);
    for (let minute = 0; minute < 120; minute++) {
      const first = start + minute * 60_000;
      const hit = new Set<number>();
      for (let run = 0; run < 46; run++) {
        const now = first + run * 60_000;
        const hour = hourInTurn(hourOf(now), now);
        expect(hourOf(now) - hour).toBeGreaterThanOrEqual(2 * HOUR_MS);
        expect(hourOf(now) - hour).toBeLessThanOrEqual(47 * HOUR_MS);
        hit.add(hour);
      }
      // Every hour that stayed 2 to 47 back for the whole round was recomputed in it.
      const end = hourOf(first + 45 * 60_000);
      for (let back = 2; back <= 47; back++) {
        const hour = hourOf(first) - back * HOUR_MS;
        if (end - hour <= 47 * HOUR_MS) expect(hit.has(hour), `start +${minute} min, ${back} h back`).toBe(true);
      }
    }
  });
});
