// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// `npm run stripe:backfill` end to end: the script calls the real Worker under `wrangler dev`, whose
// backfill reads the list APIs of a local fake of the Stripe API (e2e/fake-stripe.mjs) through
// STRIPE_API_BASE, exactly as a deployed Worker reads Stripe's.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startFakeStripe } from "./fake-stripe.mjs";
import { runScript } from "./scripts.mjs";
import { ROOT, startWorker } from "./worker.mjs";

const PORT = 8882;
const KEY = "sk_test_fake_backfill_e2e";
const TOKEN = `e2e-backfill-${crypto.randomUUID()}`;
const fixture = (name) => JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "stripe-objects", name), "utf8"));
const many = (name, prefix, n, fields = () => ({})) =>
  Array.from({ length: n }, (_, i) => ({ ...fixture(name), id: `${prefix}_e2e_${i}`, ...fields(i) }));

const catalogue = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "stripe-objects-more", "entitlements-catalogue.json"), "utf8"));
const ACCOUNT = {
  "/v1/customers": many("customer.json", "cus", 25),
  "/v1/products": [0, 1].map((i) => ({ ...catalogue.product, id: `prod_e2e_${i}` })),
  "/v1/prices": [0, 1].map((i) => ({ ...catalogue.price, id: `price_e2e_${i}` })),
  "/v1/subscriptions": many("subscription.json", "sub", 7, (i) => ({ status: i === 0 ? "canceled" : "active" })),
  "/v1/checkout/sessions": many("checkout.session.json", "cs_test", 2, () => ({ payment_status: "paid", status: "complete" })),
  "/v1/invoices": many("invoice.json", "in", 2, () => ({ status: "paid" })),
  "/v1/payment_intents": many("payment_intent.json", "pi", 2),
  "/v1/charges": many("charge.json", "ch", 2),
};
const TOTAL = Object.values(ACCOUNT).reduce((n, list) => n + list.length, 0);

let fake;
let worker;
let dir;

const backfill = (args, env = {}) => runScript("stripe:backfill", { args, cwd: dir, env: { ...process.env, ADMIN_TOKEN: TOKEN, ...env } });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "stripe-backfill-"));
  fake = await startFakeStripe({ apiKey: KEY });
  // Three objects a page, whatever the Worker asks for: the 25 customers alone take more than one
  // call's ten pages.
  for (const [path, objects] of Object.entries(ACCOUNT)) fake.serveList(path, objects, { pageCap: 3 });
  // An account that defined no Entitlements feature: the entitlements import asks once and is done.
  fake.serveList("/v1/entitlements/features", []);
  worker = await startWorker({
    port: PORT,
    vars: { ADMIN_TOKEN: TOKEN, STRIPE_WEBHOOK_SECRET: "whsec_e2e_backfill", STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: fake.base },
  });
});

after(async () => {
  worker?.stop();
  await fake?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run stripe:backfill (real Worker, fake Stripe API)", () => {
  it("--status prints the progress and starts nothing", async () => {
    const { status, output } = await backfill(["--url", worker.base, "--status"]);
    assert.equal(status, 0, output);
    assert.match(
      output,
      new RegExp(
        /^not_started: customers 0 · products 0 · prices 0 · subscriptions 0 · checkout_sessions 0 · invoices 0 · /.source +
          /payment_intents 0 · charges 0 · entitlements 0\n$/.source,
      ),
    );
    assert.equal(fake.requests.length, 0);
  });

  it("calls the Worker until done, waits after Stripe's 429 and resumes at the cursor, printing progress", async () => {
    const subscriptions = ACCOUNT["/v1/subscriptions"];
    fake.failListOnce("/v1/subscriptions", 429, { startingAfter: subscriptions[2].id });
    const { status, output } = await backfill(["--url", worker.base, "--pause", "0.2"]);
    assert.equal(status, 0, output);
    assert.match(
      output,
      new RegExp(
        /running: customers 25 ✓ · products 2 ✓ · prices 0 · subscriptions 0 · checkout_sessions 0 · invoices 0 · /.source +
          /payment_intents 0 · charges 0 · entitlements 0 \(this call: budget, 10 page\(s\), 27 object\(s\)\)\n/.source,
      ),
    );
    assert.match(
      output,
      new RegExp(
        /\(this call: rate_limited, 2 page\(s\), 5 object\(s\)\)\n {2}/.source +
          /The Stripe API answered 429 \(StripeRateLimitError\); the backfill continues/.source,
      ),
    );
    assert.match(
      output,
      new RegExp(
        /done: customers 25 ✓ · products 2 ✓ · prices 2 ✓ · subscriptions 7 ✓ · checkout_sessions 2 ✓ · invoices 2 ✓ · /.source +
          /payment_intents 2 ✓ · charges 2 ✓ · entitlements 0 ✓/.source,
      ),
    );
    assert.match(output, new RegExp(`Done: ${TOTAL} objects imported into the billing tables\\. No fulfilment hook ran for them\\.\\n$`));
    assert.doesNotMatch(output, new RegExp(`${TOKEN}|${KEY}`));

    const subscriptionCalls = fake.requests.filter((r) => r.path === "/v1/subscriptions");
    assert.deepEqual(
      subscriptionCalls.map((r) => r.query.starting_after ?? null),
      [null, subscriptions[2].id, subscriptions[2].id, subscriptions[5].id],
    );
    assert.ok(subscriptionCalls.every((r) => r.query.status === "all"));

    const progress = await (await fetch(`${worker.base}/admin/api/backfill`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    assert.deepEqual(progress.types.subscriptions, { imported: 7, done: true });
    assert.equal(progress.done, true);
  });

  it("stops with the admin API's error when the token is wrong", async () => {
    const { status, output } = await backfill(["--url", worker.base], { ADMIN_TOKEN: "not-the-token" });
    assert.equal(status, 1);
    assert.match(output, /^401 unauthorized: The admin API needs the header/m);
  });

  it("refuses to send the token over plain http to another machine", async () => {
    const { status, output } = await backfill(["--url", "http://stripe-webhooks.example.com"]);
    assert.equal(status, 2);
    assert.match(output, /--url must start with https:\/\//);
  });
});
