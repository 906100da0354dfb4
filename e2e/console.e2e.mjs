// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// The operator console in a real browser: Debian's Chromium driven by playwright-core against the
// Worker under `wrangler dev`. Sign in with the token, see a dead event, replay it, see it processed;
// then search a subscription delivered out of order, open its customer's view, see the charts, and
// bulk-replay a customer's dead events through the confirmation.
// Screenshots of each step go to a temp dir, or to docs/ (committed, for the README) with
// `E2E_SCREENSHOTS=docs npm run test:e2e`, so an ordinary run never dirties the work tree.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { chromium } from "playwright-core";
import { ROOT, startWorker, wrangler } from "./worker.mjs";

const PORT = 8870;
const SHOTS = process.env.E2E_SCREENSHOTS ? join(ROOT, process.env.E2E_SCREENSHOTS) : mkdtempSync(join(tmpdir(), "console-shots-"));
const TOKEN = `e2e-admin-${crypto.randomUUID()}`;
const EVENT_ID = `evt_e2e_${Date.now()}`;
const SECRET = "whsec_e2e_console";
const CUSTOMER = `cus_e2e${Date.now()}`;
const SUBSCRIPTION = `sub_e2e${Date.now()}`;
/** Dead customer.updated events about CUSTOMER, seeded for the bulk replay. */
const DEAD_UPDATES = [1, 2, 3].map((n) => `evt_e2e_dead${n}_${Date.now()}`);
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
  const event = {
    ...fixture("event.json"),
    id: EVENT_ID,
    type: "checkout.session.completed",
    created: Math.floor(Date.now() / 1000) - 3600,
    data: { object: session },
  };
  const q = (s) => `'${String(s).replaceAll("'", "''")}'`;
  const receivedAt = Date.now() - 3600_000;
  const error = "Error: fulfilment hook checkout_session.paid failed (D1_ERROR: database is locked)";
  const sql = `INSERT INTO stripe_events (id, type, api_version, livemode, account, created, received_at, status, attempts, last_error,
  redrive_at, secret_index, source, payload)
VALUES (${q(EVENT_ID)}, 'checkout.session.completed', ${q(event.api_version)}, 0, NULL, ${event.created}, ${receivedAt}, 'dead', 10,
  ${q(error)}, NULL, 0, 'webhook', ${q(JSON.stringify(event))});`;
  // Three customer.updated events of one customer that also ran out of retries, for the bulk replay.
  const updates = DEAD_UPDATES.map((id, i) => {
    const updated = {
      ...fixture("event.json"),
      id,
      type: "customer.updated",
      created: Math.floor(Date.now() / 1000) - 7200 + i,
      data: { object: { ...fixture("customer.json"), id: CUSTOMER } },
    };
    return `INSERT INTO stripe_events (seq, id, type, api_version, livemode, created, received_at, status, attempts, last_error, dead_at,
  secret_index, source, object_id, payload)
VALUES (${(receivedAt + 1 + i) * 1000}, ${q(id)}, 'customer.updated', ${q(updated.api_version)}, 0, ${updated.created},
  ${receivedAt + 1 + i}, 'dead', 10, 'Error: CRM API answered 503', ${receivedAt + 60_000}, 0, 'webhook', ${q(CUSTOMER)},
  ${q(JSON.stringify(updated))});`;
  });
  const file = join(dir, "seed.sql");
  writeFileSync(file, [sql, ...updates].join("\n"));
  wrangler(["d1", "execute", "DB", "--local", "--persist-to", persist, "--file", file, "--yes"]);
}

let worker;
let browser;
let profile;

before(async () => {
  worker = await startWorker({
    port: PORT,
    vars: { ADMIN_TOKEN: TOKEN, STRIPE_WEBHOOK_SECRET: SECRET, STRIPE_SECRET_KEY: "" },
    seed: seedDeadEvent,
  });
  profile = mkdtempSync(join(tmpdir(), "chromium-e2e-"));
  // A fresh profile per run (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 860 },
    // The machine may have no internet: keep Chromium from phoning home (and flooding refused connections).
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  await browser?.close();
  worker?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (!process.env.E2E_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true });
});

/** A snapshot event of `type` about `object`, created at `created` (Unix seconds). */
function event(type, object, created) {
  return { ...fixture("event.json"), id: `evt_e2e_${Math.random().toString(36).slice(2)}`, type, created, data: { object } };
}

/** Delivers an event signed as Stripe signs, and returns its id. */
async function post(body) {
  const payload = JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000);
  const signature = createHmac("sha256", SECRET).update(`${t}.${payload}`).digest("hex");
  const response = await fetch(`${worker.base}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${signature}` },
    body: payload,
  });
  assert.equal(response.status, 200, await response.text());
  return body.id;
}

/** Waits until the admin API shows `count` processed events about `objectId`. */
async function untilProcessed(objectId, count) {
  const deadline = Date.now() + 30_000;
  let body;
  while (Date.now() < deadline) {
    const response = await fetch(`${worker.base}/admin/api/objects/${objectId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    body = response.status === 200 ? await response.json() : null;
    if (body?.events.length === count && body.events.every((e) => e.status === "processed")) return body;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`events about ${objectId} not processed: ${JSON.stringify(body)}\n${worker.output()}`);
}

/** A page of the browser's context, signed in (the first test's session cookie, or a new sign-in). */
async function signedInPage() {
  const page = await browser.newPage();
  await page.goto(`${worker.base}/admin`);
  if ((await page.locator('input[name="token"]').count()) > 0) {
    await page.fill('input[name="token"]', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForSelector("form.search");
  }
  return page;
}

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
    assert.equal((await page.locator('[data-status="dead"] .n').textContent()).trim(), String(1 + DEAD_UPDATES.length));
    await page.screenshot({ path: join(SHOTS, "console-events.png"), fullPage: true });

    await page.selectOption('select[name="status"]', "dead");
    await page.click("form.filters button");
    await page.waitForURL(/status=dead/);
    assert.equal(await page.locator("tbody tr").count(), 1 + DEAD_UPDATES.length);

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
    assert.equal((await page.locator('[data-status="dead"] .n').textContent()).trim(), String(DEAD_UPDATES.length));
    await page.screenshot({ path: join(SHOTS, "console-after-replay.png"), fullPage: true });
    assert.deepEqual(cspViolations, []);
  });

  it(
    "searches a subscription delivered out of order, opens its customer's view, shows the charts, " +
      "and bulk-replays the customer's dead events after confirming",
    async () => {
      // The subscription's update arrives before its creation, as Stripe may deliver them.
      const created = Math.floor(Date.now() / 1000) - 600;
      const subscription = (status) => ({ ...fixture("subscription.json"), id: SUBSCRIPTION, customer: CUSTOMER, status });
      await post(event("customer.created", { ...fixture("customer.json"), id: CUSTOMER, email: "ada@example.com" }, created - 60));
      const updated = await post(event("customer.subscription.updated", subscription("active"), created + 30));
      const first = await post(event("customer.subscription.created", subscription("incomplete"), created));
      await untilProcessed(SUBSCRIPTION, 2);

      const page = await signedInPage();
      const cspViolations = [];
      page.on("console", (m) => m.text().includes("Content Security Policy") && cspViolations.push(m.text()));
      await page.fill('form.search input[name="id"]', SUBSCRIPTION);
      await page.click("form.search button");
      await page.waitForURL(new RegExp(`/admin/objects/${SUBSCRIPTION}$`));
      // Created order, with the arrival order beside it: the creation arrived second, late.
      assert.deepEqual(
        await page
          .locator("tbody tr")
          .evaluateAll((rows) => rows.map((r) => [r.dataset.eventId, r.dataset.arrival, r.classList.contains("late")])),
        [
          [first, "2", true],
          [updated, "1", false],
        ],
      );
      assert.equal((await page.locator('dl[data-table="subscriptions"]').textContent()).includes("active"), true);
      await page.screenshot({ path: join(SHOTS, "console-object.png"), fullPage: true });

      await page.click(`a:has-text("Customer view of ${CUSTOMER}")`);
      await page.waitForURL(new RegExp(`/admin/customers/${CUSTOMER}$`));
      assert.equal(await page.locator("[data-entitled]").getAttribute("data-entitled"), "true");
      assert.equal((await page.locator(`a[href="/admin/objects/${SUBSCRIPTION}"]`).count()) > 0, true);
      await page.screenshot({ path: join(SHOTS, "console-customer.png"), fullPage: true });

      // wrangler dev fires no cron by itself: run the scheduled handler once, as Cloudflare would each minute.
      assert.equal((await fetch(`${worker.base}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}`)).status, 200);
      await page.click('header nav a:has-text("Charts")');
      await page.waitForURL(/\/admin\/charts$/);
      assert.equal(await page.locator("svg.chart").count(), 4);
      assert.ok(
        (await page.locator('svg.chart rect[data-status="processed"]').count()) > 0,
        "the deliveries chart draws the processed events",
      );
      await page.screenshot({ path: join(SHOTS, "console-charts.png"), fullPage: true });

      await page.goto(`${worker.base}/admin?status=dead&type=customer.updated`);
      assert.equal(await page.locator("tbody tr").count(), DEAD_UPDATES.length);
      await page.click('a:has-text("Replay the failed and dead events matching this filter")');
      await page.waitForURL(/\/admin\/replay\?/);
      assert.equal(await page.locator(".replay-count").getAttribute("data-count"), String(DEAD_UPDATES.length));
      await page.screenshot({ path: join(SHOTS, "console-bulk-replay.png"), fullPage: true });
      await page.click(`button:has-text("Replay ${DEAD_UPDATES.length} event(s)")`);
      await page.waitForSelector(`text=Replayed ${DEAD_UPDATES.length} event(s)`);

      const deadline = Date.now() + 30_000;
      let statuses = [];
      while (Date.now() < deadline) {
        await page.goto(`${worker.base}/admin?type=customer.updated`);
        statuses = await Promise.all(
          DEAD_UPDATES.map(async (id) => (await page.locator(`tr[data-event-id="${id}"] .badge`).textContent()).trim()),
        );
        if (statuses.every((s) => s === "processed")) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.deepEqual(
        statuses,
        DEAD_UPDATES.map(() => "processed"),
        worker.output(),
      );
      assert.deepEqual(cspViolations, []);
    },
  );

  it("answers the admin API with the Bearer token and 401 without it", async () => {
    const ok = await fetch(`${worker.base}/admin/api/stats`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    const refused = await fetch(`${worker.base}/admin/api/stats`);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, "unauthorized");
  });
});
