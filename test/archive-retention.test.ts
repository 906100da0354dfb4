import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { readPart } from "../src/archive/part";
import { billingHandlers } from "../src/billing/handlers";
import { HOUR_MS, hourOf } from "../src/db/ledger/hours";
import { pruneLedger } from "../src/maintenance/retention";
import { adminApi, adminEnv, consolePage } from "./helpers/admin";
import { archivedIds, archiveKeys, clearArchive, committedParts, ledgerCountWith, seedFinal } from "./helpers/archive";
import { stripeObject } from "./helpers/billing";
import { buildEvent, OBJECTS, uid } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { clearLedger, ledgerRow, seedEvent, setRow } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import { observedD1, rowsWritten } from "./helpers/observed-d1";
import { runBatch, testDeps } from "./helpers/worker";

// Retention with the ARCHIVE bucket bound (wrangler.toml binds it; the tests get the local R2): final
// events older than the retention go to R2 before they leave D1, and stay reachable there.

const DAY = 86_400_000;
const NOW = Date.now();
/** The retention the tests run with (the default with the archive bound). */
const DAYS = 7;
const deps = (overrides: Partial<Env> = {}) => testDeps({ env: envWith({ LEDGER_RETENTION_DAYS: String(DAYS), ...overrides }), now: NOW });

beforeEach(async () => {
  await clearLedger();
  await clearArchive();
});

/** A young row, so that the seeded ones are never the newest (which retention always keeps). */
async function newestRow(): Promise<void> {
  await seedEvent(buildEvent("customer.created", OBJECTS.customer));
}

describe("retention with the archive", () => {
  it("moves final events older than the retention to R2, part by hour of arrival, and deletes only those", async () => {
    const old = NOW - 10 * DAY;
    const hour = hourOf(old);
    // 30 events in one hour, 20 in the next, 5 too young to go, and a failed and a dead old one.
    const first = await seedFinal(30, hour + 60_000, 1000);
    const second = await seedFinal(20, hour + HOUR_MS + 60_000, 1000, { status: "ignored" });
    const young = await seedFinal(5, NOW - 2 * DAY, 1000);
    const kept = await seedFinal(2, hour + 30 * 60_000, 1000, { status: "failed" });
    await setRow(`${kept}_1`, { status: "dead" });
    await newestRow();

    expect(await pruneLedger(deps())).toBe(50);
    expect(await ledgerCountWith(first)).toBe(0);
    expect(await ledgerCountWith(second)).toBe(0);
    expect(await ledgerCountWith(young)).toBe(5);
    expect(await ledgerCountWith(kept)).toBe(2);

    const parts = await committedParts();
    expect(parts.map((p) => ({ hour: p.hour, lines: p.lines, events: p.events }))).toEqual([
      { hour, lines: 30, events: 30 },
      { hour: hour + HOUR_MS, lines: 20, events: 20 },
    ]);
    const ids = await archivedIds();
    expect(ids.size).toBe(50);
    expect([...ids.values()].every((n) => n === 1)).toBe(true);
    // Each hour has its manifest, naming its parts; the parts are then listed.
    const manifest = await (await env.ARCHIVE.get(parts[0]!.key.replace(/part-[^/]+$/, "manifest.json")))!.json<{
      parts: { key: string }[];
    }>();
    expect(manifest.parts.map((p) => p.key)).toEqual([parts[0]!.key]);
    const { results } = await env.DB.prepare("SELECT DISTINCT state FROM archive_parts").all<{ state: string }>();
    expect(results).toEqual([{ state: "listed" }]);
  });

  it("writes each event whole: its row and the payload as received, also one the finish stored compressed", async () => {
    const handlers = billingHandlers();
    const event = buildEvent("customer.created", stripeObject("customer", { id: uid("cus") }));
    await seedEvent(event, NOW - 9 * DAY);
    await runBatch([event.id], { handlers, env: envWith({ EVENTS_QUEUE: heldQueue().queue }), now: () => NOW - 9 * DAY + 500 });
    const row = (await ledgerRow(event.id))!;
    expect(row.payload_encoding).toBe("gzip");
    await newestRow();

    await pruneLedger(deps());
    const [part] = await committedParts();
    const [line] = (await readPart(env.ARCHIVE, part!.key, event.id))!;
    expect(line).toEqual({
      seq: row.seq,
      id: event.id,
      type: "customer.created",
      api_version: row.api_version,
      livemode: false,
      account: null,
      created: event.created,
      received_at: row.received_at,
      status: "processed",
      attempts: 1,
      last_error: null,
      processed_at: row.processed_at,
      dead_at: null,
      secret_index: null,
      source: "webhook",
      format: "snapshot",
      object_id: event.data.object.id,
      context: null,
      twin_of: null,
      payload: JSON.stringify(event),
    });
  });

  it("moves at most 10,000 rows a run, in parts of at most 2,000 read 500 at a time, and says there is more", async () => {
    // 20 minutes of arrivals inside one hour, whatever the time of the run: parts split at hours.
    const prefix = await seedFinal(12_000, hourOf(NOW - 20 * DAY) + 60_000, 100);
    await newestRow();
    const { db, statements } = observedD1();
    const logs = captureLogs();
    expect(await pruneLedger(deps({ DB: db }))).toBe(10_000);
    expect(await ledgerCountWith(prefix)).toBe(2_000);
    const parts = await committedParts();
    expect(parts.map((p) => p.lines)).toEqual([2000, 2000, 2000, 2000, 2000]);
    // No statement reads more than 500 ledger rows for a part, nor deletes more than 500.
    const reads = statements.filter((s) => /^select .* from "stripe_events"/.test(s.sql) && / limit \?$/.test(s.sql));
    expect(Math.max(...reads.map((s) => s.params.at(-1) as number))).toBe(500);
    const deletes = statements.filter((s) => /^DELETE FROM "stripe_events"/.test(s.sql));
    expect(deletes).toHaveLength(20);
    expect(Math.max(...deletes.map((s) => s.rowsWritten))).toBeLessThanOrEqual(500);
    expect(logs.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ msg: "retention", parts: 5, archived: 10_000, more: true }),
    );
    expect(await pruneLedger(deps())).toBe(2_000);
  });

  it("costs a few rows written per part besides the deletes: its catalogue row, its fingerprints", async () => {
    await seedFinal(2_000, hourOf(NOW - 20 * DAY) + 60_000, 100); // one hour, so one part
    await newestRow();
    const { db, statements } = observedD1();
    await pruneLedger(deps({ DB: db }));
    const deletes = rowsWritten(statements, /^DELETE FROM "stripe_events"/);
    expect(deletes).toBe(2_000);
    const archive = rowsWritten(statements) - deletes;
    // 16 fingerprint rows (2,000 ids in buckets of about 125) and the part's row as it goes writing → done → listed.
    expect(archive).toBeLessThanOrEqual(25);
    expect(archive / 2_000).toBeLessThan(0.015);
  });

  it("is listed by GET /admin/api/archive, newest hour first, and an archived event is found by its id", async () => {
    const hour = hourOf(NOW - 10 * DAY);
    const a = await seedFinal(3, hour + 1000, 1000);
    await seedFinal(4, hour + 2 * HOUR_MS + 1000, 1000);
    await newestRow();
    await pruneLedger(deps());

    const list = await adminApi("/archive");
    expect(list.status).toBe(200);
    expect(list.body.hours).toEqual([
      { hour: new Date(hour + 2 * HOUR_MS).toISOString(), parts: 1, events: 4, bytes: expect.any(Number) },
      { hour: new Date(hour).toISOString(), parts: 1, events: 3, bytes: expect.any(Number) },
    ]);
    const found = await adminApi(`/events/${a}_1`);
    expect(found.status).toBe(200);
    expect(found.body.event).toMatchObject({
      id: `${a}_1`,
      status: "processed",
      payload: { id: `${a}_1`, object: "event" },
      archived: { hour: new Date(hour).toISOString(), key: expect.stringMatching(/^ledger\/v1\/\d{4}\/\d\d\/\d\d\/\d\d\/part-/) },
    });
    expect((await adminApi(`/events/${a}_99`)).status).toBe(404);
  });

  it("lets the console's search box find an archived event, whose page shows it read-only with how to restore it", async () => {
    const prefix = await seedFinal(2, NOW - 10 * DAY, 1000);
    await newestRow();
    await pruneLedger(deps());
    const search = await consolePage(`/admin/objects/${prefix}_0`, adminEnv());
    expect(search.status).toBe(303);
    expect(search.location).toBe(`/admin/events/${prefix}_0`);
    const page = await consolePage(`/admin/events/${prefix}_0`);
    expect(page.status).toBe(200);
    expect(page.html).toContain("Archived: retention moved this event to R2");
    expect(page.html).toContain("npm run archive:restore");
    expect(page.html).not.toMatch(/<button type="submit">Replay<\/button>/);
    const archive = await consolePage("/admin/archive");
    expect(archive.html).toMatch(/data-hour="[^"]+"/);
  });

  it("answers archive_not_bound without the bucket, and retention then deletes without archiving", async () => {
    const noArchive = adminEnv({ ARCHIVE: undefined });
    expect((await adminApi("/archive", { env: noArchive })).body.error.code).toBe("archive_not_bound");
    expect((await adminApi("/archive/restore?from=0&to=1", { env: noArchive, method: "POST" })).status).toBe(409);
    const prefix = await seedFinal(3, NOW - 40 * DAY, 1000);
    await newestRow();
    expect(await pruneLedger(testDeps({ env: envWith({ ARCHIVE: undefined }), now: NOW }))).toBe(3);
    expect(await ledgerCountWith(prefix)).toBe(0);
    expect(await committedParts()).toEqual([]);
    expect(await archiveKeys()).not.toContainEqual(expect.stringContaining(prefix));
  });
});
