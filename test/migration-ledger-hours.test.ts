import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { HOUR_MS, hourOf } from "../src/db/ledger/hours";
import { redriveDueEvents } from "../src/maintenance/redrive";
import { buildEvent, OBJECTS } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { keptHours, recomputeFromLedger } from "./helpers/hours-oracle";
import { clearLedger, seedEvent, setRow } from "./helpers/ledger";
import { testDeps } from "./helpers/worker";

// Migration 0009 turns ledger_hours into counters on a database that already has a ledger and the
// old recomputed rows. Its seeding statements are run again here (the schema is already migrated) on
// such a database: afterwards, once the sweep has passed every arrival, the counters are what a
// recompute from the ledger finds, and an hour older than the ledger keeps its frozen figures.

const NOW = Date.now();
const HOUR = hourOf(NOW);

/** The statements of migrations/0009 that seed the counters (those after the table is renamed). */
function seedingStatements(): string[] {
  const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0009_"))!;
  const renamed = migration.queries.findIndex((q) => /RENAME TO `ledger_hours`/.test(q));
  return migration.queries.slice(renamed + 1);
}

beforeEach(async () => {
  await clearLedger();
  await env.DB.prepare("DELETE FROM ledger_hours").run();
});

describe("migration 0009's seeding of the hourly counters", () => {
  it("counts what the sweep has passed, leaves the rest to it, and keeps older hours' frozen figures", async () => {
    const statuses = ["processed", "processed", "ignored", "failed", "dead", "received", "processed"];
    for (const [h, hoursAgo] of [30, 5, 1, 0].entries()) {
      for (const [i, status] of statuses.entries()) {
        const e = buildEvent("customer.created", OBJECTS.customer);
        await seedEvent(e, HOUR - hoursAgo * HOUR_MS + 60_000 * (i + 1) + h);
        await setRow(e.id, { status, processed_at: status === "processed" || status === "ignored" ? NOW - 5_000 * i : null });
      }
    }
    // The old cron's rows as the migration's copy leaves them (failed and dead zeroed, to be read from
    // the ledger): a frozen hour five days back, and figures for a recent hour to be replaced.
    const frozen = HOUR - 120 * HOUR_MS;
    await env.DB.prepare(
      "INSERT INTO ledger_hours (hour, arrivals, processed, ignored, failed, dead, lag_p50_ms, lag_p95_ms, updated_at) " +
        "VALUES (?, 9, 7, 1, 0, 0, 10, 20, 1), (?, 99, 99, 99, 0, 0, NULL, NULL, 1)",
    )
      .bind(frozen, HOUR - HOUR_MS)
      .run();
    // The sweep had read up to the middle of the previous hour.
    await env.DB.prepare("INSERT INTO job_state (key, value, updated_at) VALUES ('ledger_sweep', ?, 0)")
      .bind(JSON.stringify({ seq: (HOUR - HOUR_MS + 4 * 60_000) * 1000 }))
      .run();

    for (const statement of seedingStatements()) await env.DB.prepare(statement).run();
    const seeded = await keptHours();
    expect(seeded.get(frozen)).toMatchObject({ arrivals: 9, processed: 7, ignored: 1, failed: 0, dead: 0 });
    expect(seeded.get(HOUR - HOUR_MS)).toMatchObject({ arrivals: 3, processed: 2, ignored: 1, failed: 0, dead: 0 });

    // The sweep passes the rest: then every hour of the ledger is what a recompute finds.
    await redriveDueEvents(testDeps({ env: envWith({ EVENTS_QUEUE: heldQueue().queue }), now: NOW + 3 * HOUR_MS }));
    const kept = await keptHours();
    for (const [hour, { lags, ...counts }] of await recomputeFromLedger())
      expect(kept.get(hour), new Date(hour).toISOString()).toEqual(counts);
  });
});
