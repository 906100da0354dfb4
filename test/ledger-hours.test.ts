import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { createDb } from "../src/db/client";
import { HOUR_MS, hourOf, readChartHours, readHours } from "../src/db/ledger/hours";
import { Handlers } from "../src/handlers/registry";
import { LAG_BUCKET_EDGES_MS, lagBucket, lagPercentile } from "../src/ledger/lag";
import { refreshLedgerHours } from "../src/maintenance/ledger-hours";
import { redriveDueEvents } from "../src/maintenance/redrive";
import { purge, replay } from "../src/replay/replay";
import { buildEvent, OBJECTS } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { keptHours, recomputeFromLedger } from "./helpers/hours-oracle";
import { clearLedger, seedEvent, setRow } from "./helpers/ledger";
import { observedD1, rowsWritten } from "./helpers/observed-d1";
import { DEAD_LETTER_QUEUE, runBatch, testDeps } from "./helpers/worker";

// The charts' hourly aggregates are counters kept by the statements that move events (src/db/ledger/hours.ts).
// The oracle is the recompute the cron used to run every minute: after any sequence of moves, and
// once the sweep has passed every arrival, the counters must hold what it finds in the ledger.

const NOW = Date.now();
const HOUR = hourOf(NOW);

beforeEach(async () => {
  await clearLedger();
  await env.DB.prepare("DELETE FROM ledger_hours").run();
});

/** `n` events that arrived `hoursAgo` hours before NOW, a second apart. */
async function arrivals(n: number, hoursAgo: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = buildEvent("customer.created", OBJECTS.customer);
    await seedEvent(e, HOUR - hoursAgo * HOUR_MS + 60_000 + i * 1000);
    ids.push(e.id);
  }
  return ids;
}

/** Handlers whose customer.created handler throws for the ids in `failing`. */
function handlersFailing(failing: ReadonlySet<string>): Handlers {
  return new Handlers().on("customer.created", (_customer, event) => {
    if (failing.has(event.id)) throw new Error("handler down");
  });
}

/** Messages sent while the moves run are held, never consumed behind the test's back. */
const held = () => envWith({ EVENTS_QUEUE: heldQueue().queue });

/** The sweep, run far enough ahead that it passes every arrival (and counts it). */
async function sweepEverything(): Promise<void> {
  await redriveDueEvents(testDeps({ env: held(), now: NOW + 3 * HOUR_MS }));
}

/** Once the sweep has passed every arrival, the counters hold what a recompute from the ledger finds. */
async function expectCountersMatchOracle(): Promise<void> {
  await sweepEverything();
  const oracle = await recomputeFromLedger();
  const kept = await keptHours();
  for (const [hour, expected] of oracle) {
    const { lags, ...counts } = expected;
    expect(kept.get(hour), `hour ${new Date(hour).toISOString()}`).toEqual(counts);
  }
  // An hour the ledger has no row for any more (purged) counts nothing.
  for (const [hour, row] of kept) if (!oracle.has(hour)) expect(row).toMatchObject({ arrivals: 0, processed: 0, failed: 0, dead: 0 });
}

describe("hourly counters kept by the moves themselves", () => {
  it("agree with a recompute from the ledger after processing, failures, retries, dead letters, replays, purges, deferrals", async () => {
    const early = await arrivals(6, 5);
    const late = await arrivals(5, 1);
    const all = [...early, ...late];
    const failing = new Set([early[0]!, early[1]!, late[0]!]);
    const env1 = held();

    await runBatch(all, { handlers: handlersFailing(failing), env: env1, now: () => NOW });
    // A retry that fails again, one that succeeds, and a death.
    failing.delete(early[1]!);
    await runBatch([early[0]!, early[1]!, late[0]!], { handlers: handlersFailing(failing), env: env1, now: () => NOW + 10_000 });
    await runBatch([early[0]!], { queue: DEAD_LETTER_QUEUE, env: env1, now: () => NOW + 20_000 });
    await expectCountersMatchOracle();

    // A replay of the dead one and of a processed one, then a run that defers (STRIPE_MODE unset).
    await replay(testDeps({ env: env1, now: NOW + 30_000 }), [early[0]!, early[2]!], true);
    await runBatch([early[0]!, early[2]!], { env: envWith({ ...env1, STRIPE_MODE: "" }), now: () => NOW + 40_000 });
    await expectCountersMatchOracle();
    await runBatch([early[0]!, early[2]!], { handlers: handlersFailing(new Set()), env: env1, now: () => NOW + 50_000 });

    // The still-failed late event is purged, after the sweep counted it as an arrival.
    await sweepEverything();
    expect(await purge(createDb(env.DB), [late[0]!], NOW + 60_000)).toEqual([late[0]]);
    await expectCountersMatchOracle();
    expect((await keptHours()).get(HOUR - HOUR_MS)).toMatchObject({ arrivals: 4, processed: 4, failed: 0 });
  });

  it("agree with the recompute after any sequence of moves", async () => {
    const ids = [...(await arrivals(4, 3)), ...(await arrivals(4, 0))];
    const moves = fc.constantFrom("process", "fail", "dead", "replay", "replay-final", "purge", "defer", "sweep");
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(moves, fc.subarray(ids, { minLength: 1 })), { minLength: 1, maxLength: 8 }), async (steps) => {
        const env1 = held();
        let t = NOW;
        for (const [move, chosen] of steps) {
          t += 1_000;
          const now = () => t;
          if (move === "process") await runBatch(chosen, { handlers: handlersFailing(new Set()), env: env1, now });
          if (move === "fail") await runBatch(chosen, { handlers: handlersFailing(new Set(chosen)), env: env1, now });
          if (move === "dead") await runBatch(chosen, { queue: DEAD_LETTER_QUEUE, env: env1, now });
          if (move === "replay" || move === "replay-final") await replay(testDeps({ env: env1, now: t }), chosen, move === "replay-final");
          if (move === "purge") await purge(createDb(env.DB), chosen, t);
          if (move === "defer") await runBatch(chosen, { env: envWith({ ...env1, STRIPE_MODE: "" }), now });
          if (move === "sweep") await redriveDueEvents(testDeps({ env: env1, now: t + 3 * HOUR_MS }));
        }
        await expectCountersMatchOracle();
      }),
      // Each case runs a few D1 batches per move; a handful of cases covers the moves' pairs.
      { numRuns: 15 },
    );
  }, 60_000);

  it("count an arrival once, when the sweep passes it a grace after it arrived, however often the sweep runs", async () => {
    await arrivals(3, 0);
    await redriveDueEvents(testDeps({ env: held(), now: HOUR + 60_000 }));
    expect((await keptHours()).get(HOUR)?.arrivals ?? 0).toBe(0);
    for (let run = 0; run < 3; run++) await sweepEverything();
    expect((await keptHours()).get(HOUR)?.arrivals).toBe(3);
  });

  it("are not touched by retention, so an hour keeps its figures once its events are deleted", async () => {
    const ids = await arrivals(2, 24 * 40);
    await runBatch(ids, { handlers: handlersFailing(new Set()), env: held(), now: () => NOW });
    await sweepEverything();
    await arrivals(1, 0);
    const before = await keptHours();
    const { pruneLedger } = await import("../src/maintenance/retention");
    expect(await pruneLedger(testDeps({ env: envWith({ LEDGER_RETENTION_DAYS: "30", ARCHIVE: undefined }), now: NOW }))).toBe(2);
    expect(await keptHours()).toEqual(before);
  });

  it("cost no row for a move of an event the sweep has not reached, and one per hour per batch after it", async () => {
    const ids = await arrivals(5, 2);
    const first = observedD1();
    await runBatch(ids, {
      handlers: handlersFailing(new Set(ids)),
      env: envWith({ DB: first.db, EVENTS_QUEUE: heldQueue().queue }),
      now: () => NOW,
    });
    expect(rowsWritten(first.statements, /^INSERT INTO ledger_hours/)).toBe(0);
    await sweepEverything();
    // Swept (as failed), the retries' successes move counted rows: one counter row for the batch's hour.
    const retry = observedD1();
    await runBatch(ids, { handlers: handlersFailing(new Set()), env: envWith({ DB: retry.db }), now: () => NOW + 10_000 });
    expect(rowsWritten(retry.statements, /^INSERT INTO ledger_hours/)).toBe(2); // the claim's failed − 5, the finish's processed + 5
    const again = observedD1();
    await runBatch(ids, { handlers: handlersFailing(new Set()), env: envWith({ DB: again.db }), now: () => NOW });
    expect(rowsWritten(again.statements)).toBe(0);
  });
});

describe("the charts' hours", () => {
  const chartHours = () => readChartHours(createDb(env.DB), HOUR - 2 * HOUR_MS, HOUR + 2 * HOUR_MS);

  it("show arrivals the sweep has not counted yet by their status now, and each once after it counts them", async () => {
    const ids = await arrivals(4, 0);
    await runBatch(ids, { handlers: handlersFailing(new Set([ids[0]!])), env: held(), now: () => HOUR + 90_000 });
    expect((await keptHours()).get(HOUR)?.arrivals ?? 0).toBe(0);
    const before = (await chartHours()).find((r) => r.hour === HOUR);
    expect(before).toMatchObject({ arrivals: 4, processed: 3, failed: 1, ignored: 0, dead: 0 });
    expect((JSON.parse(before!.lagCounts) as number[]).reduce((a, b) => a + b, 0)).toBe(3);

    await sweepEverything();
    const after = (await chartHours()).find((r) => r.hour === HOUR);
    expect(after).toMatchObject({ arrivals: 4, processed: 3, failed: 1 });
    expect(after!.lagCounts).toBe(before!.lagCounts);
    expect((await keptHours()).get(HOUR)).toMatchObject({ arrivals: 4, processed: 3, failed: 1 });
  });

  it("add uncounted arrivals to the hour's counted figures", async () => {
    await arrivals(2, 0);
    await sweepEverything();
    // A delivery now: the ledger gives it a seq past everything the sweep has passed.
    const late = buildEvent("customer.created", OBJECTS.customer);
    await seedEvent(late);
    await runBatch([late.id], { handlers: handlersFailing(new Set()), env: held(), now: () => NOW });
    const { seq } = (await env.DB.prepare("SELECT seq FROM stripe_events WHERE id = ?").bind(late.id).first<{ seq: number }>())!;
    const hour = hourOf(seq / 1000);
    const counted = (await keptHours()).get(hour) ?? { arrivals: 0, processed: 0 };
    expect((await chartHours()).find((r) => r.hour === hour)).toMatchObject({
      arrivals: counted.arrivals + 1,
      processed: counted.processed + 1,
    });
  });
});

describe("the cron's part: the failed and dead totals", () => {
  it("samples the whole ledger's failed and dead counts into the current hour only, from the attention index", async () => {
    const [a, b, c] = await arrivals(3, 30);
    await setRow(a!, { status: "dead" });
    await setRow(b!, { status: "failed" });
    await setRow(c!, { status: "dead" });
    await refreshLedgerHours(testDeps({ now: NOW }));
    const rows = await readHours(createDb(env.DB), HOUR - 40 * HOUR_MS, HOUR + HOUR_MS);
    expect(rows).toEqual([expect.objectContaining({ hour: HOUR, failedTotal: 1, deadTotal: 2 })]);
  });

  it("rewrites the current hour's row only when a total changed", async () => {
    await arrivals(1, 0);
    const sample = async () => {
      const { db, statements } = observedD1();
      await refreshLedgerHours(testDeps({ env: envWith({ DB: db }), now: NOW }));
      return rowsWritten(statements);
    };
    expect(await sample()).toBe(1);
    expect(await sample()).toBe(0);
  });
});

describe("lag percentiles from lag buckets", () => {
  it.each([
    [0, 0],
    [249, 0],
    [250, 1],
    [999, 2],
    [1000, 3],
    [43_199_999, 14],
    [43_200_000, 15],
    [10 * 86_400_000, 15],
  ])("puts a lag of %i ms in bucket %i", (lag, bucket) => {
    expect(lagBucket(lag)).toBe(bucket);
  });

  it("places every percentile within the bucket of the exact nearest-rank percentile", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 2 * 86_400_000 }), { minLength: 1, maxLength: 300 }),
        fc.integer({ min: 1, max: 100 }),
        (lags, p) => {
          const counts = new Array(LAG_BUCKET_EDGES_MS.length + 1).fill(0);
          for (const lag of lags) counts[lagBucket(lag)]++;
          const sorted = [...lags].sort((x, y) => x - y);
          const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
          const estimate = lagPercentile(counts, p)!;
          const bucket = lagBucket(exact);
          const low = bucket === 0 ? 0 : LAG_BUCKET_EDGES_MS[bucket - 1]!;
          const high = LAG_BUCKET_EDGES_MS[bucket] ?? Number.POSITIVE_INFINITY;
          expect(estimate).toBeGreaterThanOrEqual(low);
          expect(estimate).toBeLessThanOrEqual(high);
        },
      ),
    );
  });

  it("reads nothing counted as null, and negative counts as none", () => {
    expect(lagPercentile(new Array(16).fill(0), 50)).toBeNull();
    expect(lagPercentile([-3, 0, 2, ...new Array(13).fill(0)], 50)).toBe(750);
  });
});
