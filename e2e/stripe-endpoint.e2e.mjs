// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// `npm run stripe:endpoint` against a local fake of the Stripe API (e2e/fake-stripe.mjs), reached
// through STRIPE_API_BASE by the stripe SDK exactly as it would reach Stripe.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { startFakeStripe } from "./fake-stripe.mjs";
import { isolatedEnv, runScript } from "./scripts.mjs";
import { ROOT } from "./worker.mjs";

const KEY = "sk_test_fake_stripe_endpoint_e2e";
const WORKER = "https://stripe-webhooks.example.workers.dev";
const URL = `${WORKER}/webhooks/stripe`;
const EVENTS = JSON.parse(readFileSync(join(ROOT, "scripts", "stripe-listen-events.json"), "utf8"));
const SDK_VERSION = createRequire(import.meta.url)("stripe").API_VERSION;

let dir;
let fake;

const endpoint = (args, env = {}) =>
  runScript("stripe:endpoint", { args, cwd: dir, env: isolatedEnv({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: fake.base, ...env }) });
const writes = () => fake.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
const endpoints = () => [...fake.endpoints.values()];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "stripe-endpoint-"));
  fake = await startFakeStripe({ apiKey: KEY });
});
afterEach(async () => {
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run stripe:endpoint (fake Stripe API)", () => {
  it(
    "creates the endpoint with exactly the handled types and the SDK's API version, " + "and prints its secret once with the wrangler step",
    async () => {
      const { status, output } = await endpoint(["--url", WORKER]);
      assert.equal(status, 0, output);
      const [created] = endpoints();
      assert.equal(endpoints().length, 1);
      assert.equal(created.url, URL);
      assert.deepEqual([...created.enabled_events].sort(), [...EVENTS].sort());
      assert.equal(created.api_version, SDK_VERSION);
      assert.deepEqual(created.metadata, { managed_by: "stripe-webhook-worker" });
      assert.equal(output.split(created.secret).length - 1, 2, "the secret alone, and inside the rotation form");
      assert.match(output, /npx wrangler secret put STRIPE_WEBHOOK_SECRET\nand paste:\n {2}whsec_fake_endpoint_\w+\n/);
      assert.match(output, new RegExp(`${created.secret},<the secret configured now>@\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z`));
      assert.doesNotMatch(output, new RegExp(KEY));
    },
  );

  it("changes nothing and prints no secret when run again", async () => {
    await endpoint(["--url", `${WORKER}/`]);
    const before = writes().length;
    const { status, output } = await endpoint(["--url", URL]);
    assert.equal(status, 0, output);
    assert.match(output, /we_fake_\d+ \(made by this script\).* is up to date: nothing to change\./s);
    assert.doesNotMatch(output, /whsec_/);
    assert.equal(writes().length, before);
    assert.equal(endpoints().length, 1);
  });

  it("updates an endpoint found by URL to exactly the handled types, warning about the missing ones and noting the unhandled", async () => {
    const dashboard = fake.seedEndpoint({
      url: URL,
      api_version: SDK_VERSION,
      enabled_events: ["checkout.session.completed", "payout.paid", "balance.available"],
    });
    const { status, output } = await endpoint(["--url", WORKER]);
    assert.equal(status, 0, output);
    assert.match(output, new RegExp(`warning: ${EVENTS.length - 1} handled event type\\(s\\) are not enabled`));
    assert.match(output, /info: 2 enabled event type\(s\) have no handler .*: balance\.available, payout\.paid\./);
    assert.match(output, /- enabled_events: balance\.available, payout\.paid/);
    assert.match(output, /\+ metadata\.managed_by: stripe-webhook-worker/);
    assert.match(output, /signing secret is unchanged/);
    assert.doesNotMatch(output, /whsec_/);
    assert.deepEqual(writes(), [`POST /v1/webhook_endpoints/${dashboard.id}`]);
    const [updated] = endpoints();
    assert.equal(updated.id, dashboard.id);
    assert.deepEqual([...updated.enabled_events].sort(), [...EVENTS].sort());
    assert.equal(updated.metadata.managed_by, "stripe-webhook-worker");
  });

  it("--dry-run prints the diff and changes nothing", async () => {
    fake.seedEndpoint({ url: URL, api_version: SDK_VERSION, enabled_events: ["*"] });
    const update = await endpoint(["--url", WORKER, "--dry-run"]);
    assert.equal(update.status, 0, update.output);
    assert.match(update.output, /info: The endpoint sends every event type \(\*\)/);
    assert.match(update.output, /Would change we_seeded_\d+:\n {2}- enabled_events: \*\n/);
    assert.match(update.output, /Dry run: nothing was changed\./);

    const create = await endpoint(["--url", "https://another-worker.example.workers.dev", "--dry-run"]);
    assert.equal(create.status, 0, create.output);
    assert.match(
      create.output,
      new RegExp(
        "Would create an endpoint for https://another-worker.example.workers.dev/webhooks/stripe: " +
          `${EVENTS.length} event types, API version ${SDK_VERSION}`,
      ),
    );
    assert.deepEqual(writes(), []);
    assert.equal(endpoints().length, 1);
  });

  it("reports another API version, which only --recreate fixes, and leaves the version alone without it", async () => {
    const old = fake.seedEndpoint({
      url: URL,
      api_version: "2024-06-20",
      enabled_events: [...EVENTS],
      metadata: { managed_by: "stripe-webhook-worker" },
    });
    const { status, output } = await endpoint(["--url", WORKER]);
    assert.equal(status, 0, output);
    assert.match(
      output,
      new RegExp(
        `warning: The endpoint renders events in API version 2024-06-20, the stripe SDK expects ${SDK_VERSION}\\. Stripe cannot change`,
      ),
    );
    assert.match(output, /run again with --recreate/);
    assert.deepEqual(writes(), []);
    assert.equal(fake.endpoints.get(old.id).api_version, "2024-06-20");

    const dry = await endpoint(["--url", WORKER, "--recreate", "--dry-run"]);
    assert.match(dry.output, new RegExp(`Dry run \\(would then delete ${old.id}\\): nothing was changed\\.`));
    assert.deepEqual(writes(), []);
  });

  it("--recreate makes a new endpoint at the SDK's version, prints the rotation steps, and deletes the old one last", async () => {
    const old = fake.seedEndpoint({ url: URL, api_version: null, enabled_events: ["customer.created"] });
    const { status, output } = await endpoint(["--url", WORKER, "--recreate"]);
    assert.equal(status, 0, output);
    const [created] = endpoints();
    assert.equal(endpoints().length, 1);
    assert.notEqual(created.id, old.id);
    assert.equal(created.api_version, SDK_VERSION);
    assert.deepEqual(writes(), ["POST /v1/webhook_endpoints", `DELETE /v1/webhook_endpoints/${old.id}`]);
    assert.match(
      output,
      new RegExp(
        "and paste \\(the new secret, then the one configured now[^\\n]*\\n {2}" +
          `${created.secret},<the secret configured now>@\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z\\n`,
      ),
    );
    assert.ok(output.indexOf(created.secret) < output.indexOf(`Deleted ${old.id}`));
  });

  it("never takes an endpoint of this script's at another URL silently: --endpoint moves it, --create adds another", async () => {
    const staging = fake.seedEndpoint({
      url: "https://staging.example.workers.dev/webhooks/stripe",
      api_version: SDK_VERSION,
      enabled_events: [...EVENTS],
      metadata: { managed_by: "stripe-webhook-worker" },
    });
    const refused = await endpoint(["--url", WORKER]);
    assert.equal(refused.status, 1);
    assert.match(
      refused.output,
      new RegExp(
        `this script made ${staging.id} \\(https://staging.example.workers.dev/webhooks/stripe\\)\\. ` +
          "Pass --endpoint we_… to move one to this URL, or --create",
      ),
    );
    assert.deepEqual(writes(), []);

    const moved = await endpoint(["--url", WORKER, "--endpoint", staging.id]);
    assert.equal(moved.status, 0, moved.output);
    assert.match(
      moved.output,
      new RegExp(
        /~ url: https:\/\/staging\.example\.workers\.dev\/webhooks\/stripe → /.source +
          /https:\/\/stripe-webhooks\.example\.workers\.dev\/webhooks\/stripe/.source,
      ),
    );
    assert.equal(fake.endpoints.get(staging.id).url, URL);

    const added = await endpoint(["--url", "https://second.example.workers.dev", "--create"]);
    assert.equal(added.status, 0, added.output);
    assert.equal(endpoints().length, 2);
  });

  it("reads STRIPE_SECRET_KEY from .dev.vars, and says what to do when it is missing or refused", async () => {
    writeFileSync(join(dir, ".dev.vars"), `STRIPE_SECRET_KEY=${KEY}\n`);
    assert.equal((await endpoint(["--url", WORKER], { STRIPE_SECRET_KEY: "" })).status, 0);
    rmSync(join(dir, ".dev.vars"));

    const missing = await endpoint(["--url", WORKER], { STRIPE_SECRET_KEY: "" });
    assert.equal(missing.status, 1);
    assert.match(missing.output, /STRIPE_SECRET_KEY is not set/);

    const refused = await endpoint(["--url", WORKER], { STRIPE_SECRET_KEY: "sk_test_someone_elses_key" });
    assert.equal(refused.status, 1);
    assert.match(
      refused.output,
      new RegExp(
        /The Stripe API refused the request \(401\): Invalid API Key provided\. /.source +
          /The key must be allowed to read and write Webhook Endpoints\./.source,
      ),
    );
    assert.doesNotMatch(refused.output, /sk_test_someone_elses_key/);
  });

  for (const [name, args, env, status, message] of [
    ["no --url", [], {}, 2, /--url is required/],
    ["an http --url", ["--url", "http://stripe-webhooks.example.workers.dev"], {}, 2, /--url must start with https:\/\//],
    [
      "a plain-http STRIPE_API_BASE that is not loopback",
      ["--url", WORKER],
      { STRIPE_API_BASE: "http://stripe-mock.internal:12111" },
      1,
      /STRIPE_API_BASE uses plain http:\/\/ for an address that is not loopback/,
    ],
  ]) {
    it(`refuses ${name} before calling Stripe`, async () => {
      const result = await endpoint(args, env);
      assert.equal(result.status, status, result.output);
      assert.match(result.output, message);
      assert.deepEqual(fake.requests, []);
    });
  }
});
