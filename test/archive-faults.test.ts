import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { STALE_PART_MS } from "../src/archive/manifest";
import { pruneLedger } from "../src/maintenance/retention";
import { adminApi, adminEnv } from "./helpers/admin";
import { archivedIds, archiveKeys, clearArchive, committedParts, ledgerCountWith, seedFinal } from "./helpers/archive";
import { buildEvent, OBJECTS } from "./helpers/events";
import { d1FailingOn, envWith, type FaultTiming, heldQueue, type R2Fault, r2FailingOn } from "./helpers/faults";
import { clearLedger, seedEvent } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import { testDeps } from "./helpers/worker";

// Retention with the archive, killed or failing at each point of a part's life: the put to R2, the
// commit in D1 (whose batch deletes the rows), the manifest. At every step every event is in the
// ledger or in a committed part, never neither; and however often a part was written again after a
// failure, a restore of the whole archive puts each event back once.

const DAY = 86_400_000;
const NOW = Date.now();
const retention = (overrides: Partial<Env>, now = NOW) =>
  pruneLedger(testDeps({ env: envWith({ LEDGER_RETENTION_DAYS: "7", ...overrides }), now }));

beforeEach(async () => {
  await clearLedger();
  await clearArchive();
});

/** Seeds `count` old final events and a young newest row; returns the old ones' id prefix. */
async function oldEvents(count: number): Promise<string> {
  const prefix = await seedFinal(count, NOW - 20 * DAY, 60_000);
  await seedEvent(buildEvent("customer.created", OBJECTS.customer));
  return prefix;
}

/** Every seeded event is in the ledger or in exactly the committed parts that say so, and never neither. */
async function expectNothingLost(prefix: string, count: number): Promise<Map<string, number>> {
  const archived = await archivedIds();
  const { results } = await env.DB.prepare("SELECT id FROM stripe_events WHERE id >= ? AND id < ?")
    .bind(`${prefix}_`, `${prefix}_\uffff`)
    .all<{ id: string }>();
  const inLedger = new Set(results.map((r) => r.id));
  for (let i = 0; i < count; i++) {
    const id = `${prefix}_${i}`;
    expect(inLedger.has(id) || archived.has(id), `${id} is in neither the ledger nor the archive`).toBe(true);
  }
  return archived;
}

describe("archive faults", () => {
  it.each<[string, FaultTiming]>([
    ["fails (R2 down: nothing stored)", "before"],
    ["is killed after R2 stored the object, before the commit", "after"],
  ])("a put that %s deletes nothing; the next run archives the events once", async (_name, timing) => {
    const prefix = await oldEvents(300);
    const { bucket } = r2FailingOn({ call: "put", key: /part-/, timing, times: 1 });
    expect(await retention({ ARCHIVE: bucket })).toBe(0);
    expect(await ledgerCountWith(prefix)).toBe(300);
    expect(await committedParts()).toEqual([]);
    const { results } = await env.DB.prepare("SELECT state FROM archive_parts").all<{ state: string }>();
    expect(results).toEqual([{ state: "writing" }]);

    // The next runs: the events go in a new part; the stopped run's part is removed once stale, with its object.
    expect(await retention({})).toBe(300);
    const archived = await expectNothingLost(prefix, 300);
    expect([...archived.values()].every((n) => n === 1)).toBe(true);
    await retention({}, NOW + STALE_PART_MS + 1);
    const keys = (await archiveKeys()).filter((k) => k.includes("/part-"));
    expect(keys.sort()).toEqual((await committedParts()).map((p) => p.key).sort());
  });

  it.each<[string, FaultTiming, number]>([
    ["fails (nothing committed)", "before", 0],
    ["commits, then its answer is lost (the run killed)", "after", 1],
  ])("a commit that %s loses nothing and archives nothing twice", async (_name, timing, committed) => {
    // 300 events a minute apart: five hours, five parts; the run stops at the first part's commit.
    const prefix = await oldEvents(300);
    const db = d1FailingOn(/^DELETE FROM "stripe_events"/, timing);
    await retention({ DB: db });
    const parts = await committedParts();
    expect(parts).toHaveLength(committed);
    expect(await ledgerCountWith(prefix)).toBe(300 - parts.reduce((n, p) => n + p.events, 0));
    await expectNothingLost(prefix, 300);
    await retention({}, NOW + STALE_PART_MS + 1);
    expect(await ledgerCountWith(prefix)).toBe(0);
    const archived = await expectNothingLost(prefix, 300);
    expect(archived.size).toBe(300);
    expect([...archived.values()].every((n) => n === 1)).toBe(true);
  });

  it("a row whose stored payload cannot be read stays in the ledger, logged, and holds up nothing else", async () => {
    const prefix = await oldEvents(20);
    await env.DB.prepare("UPDATE stripe_events SET payload = X'1F8B0800', payload_encoding = 'gzip' WHERE id = ?")
      .bind(`${prefix}_3`)
      .run();
    const logs = captureLogs();
    expect(await retention({})).toBe(19);
    expect(await ledgerCountWith(prefix)).toBe(1);
    expect(logs.map((l) => JSON.parse(l))).toContainEqual({ level: "error", msg: "archive_payload_unreadable", event_id: `${prefix}_3` });
    expect((await archivedIds()).has(`${prefix}_3`)).toBe(false);
  });

  it("a manifest that fails is written by a later run, and nothing else is held up", async () => {
    const prefix = await oldEvents(50);
    const { bucket } = r2FailingOn({ call: "put", key: /manifest\.json$/, timing: "before", times: 1 });
    expect(await retention({ ARCHIVE: bucket })).toBe(50);
    expect(await ledgerCountWith(prefix)).toBe(0);
    const { results } = await env.DB.prepare("SELECT DISTINCT state FROM archive_parts").all<{ state: string }>();
    expect(results).toEqual([{ state: "done" }]);
    await retention({});
    const [part] = await committedParts();
    expect(await env.ARCHIVE.head(part!.key.replace(/part-[^/]+$/, "manifest.json"))).not.toBeNull();
  });

  it("a part removed as stale by the cleanup while its run was still going deletes nothing when that run commits", async () => {
    const prefix = await oldEvents(20);
    // The put takes "long": meanwhile a later run's cleanup removes the part as stale.
    const real = env.ARCHIVE;
    const slow = new Proxy(real, {
      get(target, prop) {
        if (prop === "put")
          return async (key: string, ...rest: unknown[]) => {
            const stored = await (target.put as (...a: unknown[]) => Promise<unknown>)(key, ...rest);
            if (key.includes("/part-")) await retention({ ARCHIVE: real, LEDGER_RETENTION_DAYS: "0" }, NOW + STALE_PART_MS + 1);
            if (key.includes("/part-")) await env.DB.prepare("DELETE FROM archive_parts WHERE state = 'writing'").run();
            return stored;
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await retention({ ARCHIVE: slow as R2Bucket });
    expect(await ledgerCountWith(prefix)).toBe(20);
    expect(await committedParts()).toEqual([]);
  });

  it("killed at any point of any run, runs end with every event archived, and a restore of it all puts each back once", async () => {
    type Point = { r2: Omit<R2Fault, "after" | "times"> } | { d1: RegExp; timing: FaultTiming };
    const points = fc.constantFrom<Point>(
      { r2: { call: "put", key: /part-/, timing: "before" } },
      { r2: { call: "put", key: /part-/, timing: "after" } },
      { r2: { call: "put", key: /manifest/, timing: "after" } },
      { r2: { call: "delete", timing: "before" } },
      { d1: /^DELETE FROM "stripe_events"/, timing: "before" },
      { d1: /^DELETE FROM "stripe_events"/, timing: "after" },
      { d1: /^insert into "archive_parts"/, timing: "after" },
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(points, fc.nat(3)), { minLength: 1, maxLength: 5 }), async (kills) => {
        await clearLedger();
        await clearArchive();
        // 400 events over 7 hours: 7 parts, so a kill can strike the first part, a middle one or the last.
        const count = 400;
        const prefix = await oldEvents(count);
        let t = NOW + ++run * 10 * STALE_PART_MS;
        for (const [point, after] of kills) {
          t += 60_000;
          const env1 =
            "d1" in point ? { DB: d1FailingOn(point.d1, point.timing) } : { ARCHIVE: r2FailingOn({ ...point.r2, after, times: 1 }).bucket };
          await retention(env1, t).catch(() => 0);
          await expectNothingLost(prefix, count);
        }
        // Then runs without faults, past the stale parts' age, until the ledger holds none of them.
        for (let i = 0; i < 3 && (await ledgerCountWith(prefix)) > 0; i++) {
          t += STALE_PART_MS + 1;
          await retention({}, t);
        }
        expect(await ledgerCountWith(prefix)).toBe(0);
        const archived = await expectNothingLost(prefix, count);
        expect(archived.size).toBe(count);

        // A restore of the whole archive records each event once, whichever parts hold it.
        const restoreEnv = adminEnv({ EVENTS_QUEUE: heldQueue().queue });
        let cursor: string | null = null;
        let restored = 0;
        do {
          const query = `from=0&to=${t}${cursor ? `&cursor=${cursor}` : ""}`;
          const { body } = await adminApi(`/archive/restore?${query}`, { method: "POST", env: restoreEnv });
          restored += body.restored;
          cursor = body.next_cursor;
        } while (cursor !== null);
        expect(restored).toBe(count);
        expect(await ledgerCountWith(prefix)).toBe(count);
      }),
      { numRuns: 8 },
    );
  }, 120_000);
});
