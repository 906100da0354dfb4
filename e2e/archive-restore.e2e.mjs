// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// The archive end to end under `wrangler dev`, which simulates the ARCHIVE bucket as it does D1: old
// final events seeded into the local D1, the cron (Miniflare's /cdn-cgi/local/scheduled route) moves
// them to R2, the admin API finds one by id, and `npm run archive:restore` brings the range back.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runScript } from "./scripts.mjs";
import { startWorker, wrangler } from "./worker.mjs";

const PORT = 8884;
const TOKEN = `e2e-archive-${crypto.randomUUID()}`;
const DAY = 86_400_000;
/** Ten days ago, on the hour: past the 7 days the ledger keeps with the archive bound. */
const HOUR = Math.floor((Date.now() - 10 * DAY) / 3_600_000) * 3_600_000;
const COUNT = 30;

let worker;
let dir;

const restore = (args) => runScript("archive:restore", { args, cwd: dir, env: { ...process.env, ADMIN_TOKEN: TOKEN } });
const api = async (path, init = {}) => {
  const response = await fetch(`${worker.base}/admin/api${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: response.status, body: await response.json() };
};
const statusCounts = async () => (await api("/stats")).body;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "archive-restore-"));
  worker = await startWorker({
    port: PORT,
    vars: { ADMIN_TOKEN: TOKEN, STRIPE_WEBHOOK_SECRET: "whsec_e2e_archive" },
    // Thirty processed events of one hour ten days ago, and a newer row (retention keeps the newest).
    seed: ({ persist }) => {
      const rows = Array.from({ length: COUNT }, (_, i) => {
        const at = HOUR + 60_000 + i * 1000;
        const payload = `{"id":"evt_e2e_archive_${i}","object":"event"}`;
        const row = [at * 1000, `'evt_e2e_archive_${i}'`, "'customer.updated'", 0, Math.floor(at / 1000), at, "'processed'", at + 300];
        return `(${row.join(", ")}, '${payload}')`;
      });
      rows.push(
        `(${Date.now() * 1000}, 'evt_e2e_archive_newest', 'customer.updated', 0, 1, ${Date.now()}, 'processed', ${Date.now()}, '{}')`,
      );
      wrangler([
        "d1",
        "execute",
        "DB",
        "--local",
        "--persist-to",
        persist,
        "--command",
        "INSERT INTO stripe_events (seq, id, type, livemode, created, received_at, status, processed_at, payload) " +
          `VALUES ${rows.join(", ")}`,
      ]);
    },
  });
  // The cron's retention: with the ARCHIVE bucket bound, the ledger keeps 7 days and moves the rest to R2.
  const cron = await fetch(`${worker.base}/cdn-cgi/local/scheduled`);
  assert.equal(cron.status, 200);
});

after(() => {
  worker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the archive under wrangler dev (npm run archive:restore)", () => {
  it("moved the old events to R2: the archive lists their hour, and an archived event is found by its id", async () => {
    const list = await api("/archive");
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.hours, [{ hour: new Date(HOUR).toISOString(), parts: 1, events: COUNT, bytes: list.body.hours[0].bytes }]);
    const found = await api("/events/evt_e2e_archive_7");
    assert.equal(found.status, 200);
    assert.equal(found.body.event.status, "processed");
    assert.deepEqual(found.body.event.payload, { id: "evt_e2e_archive_7", object: "event" });
    assert.match(found.body.event.archived.key, /^ledger\/v1\/\d{4}\/\d\d\/\d\d\/\d\d\/part-/);
    assert.equal((await statusCounts()).unfinished.received, 0);
  });

  it("refuses bad usage with exit 2, naming what is missing", async () => {
    const noRange = await restore(["--url", worker.base]);
    assert.equal(noRange.status, 2, noRange.output);
    assert.match(noRange.output, /--from and --to are required/);
    const plainHttp = await restore(["--url", "http://example.com", "--from", "0", "--to", "1"]);
    assert.equal(plainHttp.status, 2, plainHttp.output);
    assert.match(plainHttp.output, /must start with https:\/\//);
  });

  it("restores the range and replays it; a second run restores nothing", async () => {
    const range = ["--url", worker.base, "--from", new Date(HOUR).toISOString(), "--to", new Date(HOUR + 3_600_000).toISOString()];
    const first = await restore(range);
    assert.equal(first.status, 0, first.output);
    assert.match(first.output, new RegExp(`Done: ${COUNT} event\\(s\\) restored from 1 part\\(s\\)`));
    const row = await api("/events/evt_e2e_archive_7");
    assert.equal(row.body.event.archived, undefined, "read from the ledger again");
    const second = await restore(range);
    assert.equal(second.status, 0, second.output);
    assert.match(second.output, /Done: 0 event\(s\) restored from 1 part\(s\)/);
  });

  it("answers a wrong token with the admin API's own error, exit 1", async () => {
    const { status, output } = await runScript("archive:restore", {
      args: ["--url", worker.base, "--from", "0", "--to", "1"],
      cwd: dir,
      env: { ...process.env, ADMIN_TOKEN: "not-this-workers-admin-token-0123456789" },
    });
    assert.equal(status, 1, output);
    assert.match(output, /401 unauthorized/);
  });
});
