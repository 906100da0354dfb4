// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// The operator console in a real browser: Debian's Chromium driven by playwright-core against the
// Worker under `wrangler dev`. Sign in with the token, see a dead event, replay it, see it processed.
// Screenshots of each step go to a temp dir, or to docs/ (committed, for the README) with
// `E2E_SCREENSHOTS=docs npm run test:e2e`, so an ordinary run never dirties the work tree.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { ROOT, startWorker, wrangler } from "./worker.mjs";

const PORT = 8870;
const SHOTS = process.env.E2E_SCREENSHOTS ? join(ROOT, process.env.E2E_SCREENSHOTS) : mkdtempSync(join(tmpdir(), "console-shots-"));
const TOKEN = `e2e-admin-${Math.random().toString(36).slice(2)}`;
const EVENT_ID = `evt_e2e_${Date.now()}`;
const fixture = (name) => JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "stripe-objects", name), "utf8"));

/**
 * The event the console must bring back: a paid Checkout Session whose processing ran out of retries
 * (say the database behind a fulfilment hook was down for a day). The row is staged as `dead`, exactly
 * as the dead-letter consumer leaves one, before the Worker starts: the real failure path (ten queue
 * retries with backoff of up to an hour) cannot run inside a test, and a handler made to fail on
 * purpose would keep failing on replay too.
 */
function seedDeadEvent({ persist, dir }) {
  const session = { ...fixture("checkout.session.json"), status: "complete", payment_status: "paid" };
  const event = { ...fixture("event.json"), id: EVENT_ID, type: "checkout.session.completed", created: Math.floor(Date.now() / 1000) - 3600, data: { object: session } };
  const q = (s) => `'${String(s).replaceAll("'", "''")}'`;
  const receivedAt = Date.now() - 3600_000;
  const error = "Error: fulfilment hook checkout_session.paid failed (D1_ERROR: database is locked)";
  const sql = `INSERT INTO stripe_events (id, type, api_version, livemode, account, created, received_at, status, attempts, last_error, redrive_at, secret_index, source, payload)
VALUES (${q(EVENT_ID)}, 'checkout.session.completed', ${q(event.api_version)}, 0, NULL, ${event.created}, ${receivedAt}, 'dead', 10, ${q(error)}, NULL, 0, 'webhook', ${q(JSON.stringify(event))});`;
  const file = join(dir, "seed.sql");
  writeFileSync(file, sql);
  wrangler(["d1", "execute", "DB", "--local", "--persist-to", persist, "--file", file, "--yes"]);
}

let worker;
let browser;
let profile;

before(async () => {
  worker = await startWorker({ port: PORT, vars: { ADMIN_TOKEN: TOKEN, STRIPE_WEBHOOK_SECRET: "whsec_e2e_console", STRIPE_SECRET_KEY: "" }, seed: seedDeadEvent });
  profile = mkdtempSync(join(tmpdir(), "chromium-e2e-"));
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 860 },
    // The machine may have no internet: keep Chromium from phoning home (and flooding refused connections).
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  worker?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (!process.env.E2E_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true });
});

describe("operator console in Chromium", () => {
  it("signs in with the token, shows the dead event, replays it and shows it processed", async () => {
    const page = await browser.newPage();
    const cspViolations = [];
    page.on("console", (m) => m.text().includes("Content Security Policy") && cspViolations.push(m.text()));
    await page.goto(`${worker.base}/admin`);
    // The page's CSP allows its one inline stylesheet by hash: a wrong hash would leave it unstyled.
    assert.equal(await page.locator("header").evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(26, 31, 54)");
    await page.fill('input[name="token"]', "not-the-token");
    await page.click('button[type="submit"]');
    await page.waitForSelector("text=not this Worker's ADMIN_TOKEN");

    await page.fill('input[name="token"]', TOKEN);
    await page.screenshot({ path: join(SHOTS, "console-sign-in.png") });
    await page.click('button[type="submit"]');
    const row = page.locator(`tr[data-event-id="${EVENT_ID}"]`);
    await row.waitFor();
    assert.equal((await row.locator(".badge").textContent()).trim(), "dead");
    assert.match(await row.locator("td.err").textContent(), /database is locked/);
    assert.equal((await page.locator('[data-status="dead"] .n').textContent()).trim(), "1");
    await page.screenshot({ path: join(SHOTS, "console-events.png"), fullPage: true });

    await page.selectOption('select[name="status"]', "dead");
    await page.click("form.filters button");
    await page.waitForURL(/status=dead/);
    assert.equal(await page.locator("tbody tr").count(), 1);

    await row.locator("a").click();
    await page.waitForSelector(`h2:has-text("${EVENT_ID}")`);
    await page.screenshot({ path: join(SHOTS, "console-event-detail.png"), fullPage: true });
    await page.click('button:has-text("Replay")');
    await page.waitForSelector("text=Replayed: the event is sent to the queue again");

    // The local queue consumer picks the message up within its batch timeout; reload until it has.
    const deadline = Date.now() + 30_000;
    let status = "";
    while (Date.now() < deadline) {
      await page.goto(`${worker.base}/admin/events/${EVENT_ID}`);
      status = (await page.locator(".panel .badge").first().textContent()).trim();
      if (status === "processed") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(status, "processed", worker.output());
    assert.equal(await page.locator('button:has-text("Replay")').count(), 0);

    await page.goto(`${worker.base}/admin`);
    assert.equal((await page.locator(`tr[data-event-id="${EVENT_ID}"] .badge`).textContent()).trim(), "processed");
    assert.equal((await page.locator('[data-status="dead"] .n').textContent()).trim(), "0");
    await page.screenshot({ path: join(SHOTS, "console-after-replay.png"), fullPage: true });
    assert.deepEqual(cspViolations, []);
  });

  it("answers the admin API with the Bearer token and 401 without it", async () => {
    const ok = await fetch(`${worker.base}/admin/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    const refused = await fetch(`${worker.base}/admin/api/stats`);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, "unauthorized");
  });
});
