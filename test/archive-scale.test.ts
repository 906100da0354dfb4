import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { readPart } from "../src/archive/part";
import { pruneLedger } from "../src/maintenance/retention";
import { committedParts, ledgerCountWith, seedFinal } from "./helpers/archive";
import { buildEvent, OBJECTS } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { seedEvent } from "./helpers/ledger";
import { type ObservedStatement, observedD1 } from "./helpers/observed-d1";
import { testDeps } from "./helpers/worker";

// Retention with the archive on a large ledger: ARCHIVE_SCALE_ROWS final events (1,000,000 by default:
// what a 2-core machine moves in about a minute; `ARCHIVE_SCALE_ROWS=2000000 npx vitest run
// test/archive-scale.test.ts` for the issue's 2M) spread over 20 days, moved to R2 by the cron's runs
// one after another. After every run, every event is in the ledger or in a committed part (their counts
// add up, and the parts' objects are in R2); each run moves at most 10,000, no statement reads or
// deletes more than 500; at the end, R2 holds each event exactly once.

const ROWS = inject("archiveScaleRows");
const DAY = 86_400_000;
const NOW = Date.now();
const SPAN = 20 * DAY;
let prefix = "";

beforeAll(async () => {
  const started = Date.now();
  prefix = await seedFinal(ROWS, NOW - 8 * DAY - SPAN, Math.floor(SPAN / ROWS));
  await seedEvent(buildEvent("customer.created", OBJECTS.customer));
  console.log(`seeded ${ROWS} final rows in ${Date.now() - started} ms`);
}, 600_000);

describe(`retention with the archive over ${ROWS} rows`, () => {
  it("moves them all to R2 in bounded runs, every event in the ledger or a committed part after each run", async () => {
    const started = Date.now();
    let runs = 0;
    let checkedParts = 0;
    const statements: ObservedStatement[] = [];
    for (;;) {
      const observed = observedD1();
      const deleted = await pruneLedger(
        testDeps({ env: envWith({ DB: observed.db, LEDGER_RETENTION_DAYS: "7" }), now: NOW + runs * 60_000 }),
      );
      statements.push(...observed.statements.filter((s) => /^(DELETE FROM|select) "?stripe_events/i.test(s.sql)));
      runs++;
      expect(deleted).toBeLessThanOrEqual(10_000);
      const parts = await committedParts();
      const inParts = parts.reduce((n, p) => n + p.events, 0);
      expect(inParts + (await ledgerCountWith(prefix))).toBe(ROWS);
      // The objects of the parts committed by this run are in R2.
      for (const part of parts.slice(checkedParts)) expect(await env.ARCHIVE.head(part.key), part.key).not.toBeNull();
      checkedParts = parts.length;
      if (deleted === 0) break;
    }
    console.log(`moved ${ROWS} rows in ${runs} runs, ${Date.now() - started} ms`);
    expect(await ledgerCountWith(prefix)).toBe(0);
    expect(runs).toBe(Math.ceil(ROWS / 10_000) + 1);
    for (const s of statements) expect(s.rowsWritten, s.sql.slice(0, 40)).toBeLessThanOrEqual(500);
    const reads = statements.filter((s) => /^select/.test(s.sql));
    expect(Math.max(...reads.map((s) => s.params.at(-1) as number))).toBeLessThanOrEqual(500);
  }, 600_000);

  it("holds each event exactly once in R2, in parts of one hour each", async () => {
    const seen = new Uint8Array(ROWS);
    for (const part of await committedParts()) {
      const lines = (await readPart(env.ARCHIVE, part.key))!;
      expect(lines).toHaveLength(part.lines);
      for (const line of lines) {
        expect(Math.floor(line.seq / 3_600_000_000) * 3_600_000).toBe(part.hour);
        seen[Number(line.id.slice(prefix.length + 1))]!++;
      }
    }
    expect(seen.every((n) => n === 1)).toBe(true);
  }, 600_000);
});
