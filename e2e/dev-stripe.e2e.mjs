// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// `npm run dev:stripe` end to end: the real Stripe CLI binary against a local fake of the Stripe API
// (e2e/fake-stripe.mjs) and the real Worker under `wrangler dev`, in a throwaway copy of the project
// (its own .dev.vars and local D1), so the developer's files are neither read nor written.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { startFakeStripe } from "./fake-stripe.mjs";
import { isolatedEnv, runScript, startScript } from "./scripts.mjs";
import { ROOT } from "./worker.mjs";

const KEY = "sk_test_fake_dev_stripe_e2e";
const PORT = "8874";
const TOKEN = "e2e-dev-stripe-admin-token-0123456789";
const fixture = (name) => JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "stripe-objects", name), "utf8"));

let dir;
let fake;
let run;

/** A copy of the project that `wrangler dev` can run: sources and node_modules linked, config copied. */
function projectCopy() {
  const copy = mkdtempSync(join(tmpdir(), "dev-stripe-"));
  for (const name of ["src", "migrations", "node_modules", "scripts"]) symlinkSync(join(ROOT, name), join(copy, name));
  for (const name of ["wrangler.toml", "package.json", "tsconfig.json", "worker-configuration.d.ts", ".dev.vars.example"])
    copyFileSync(join(ROOT, name), join(copy, name));
  return copy;
}

const answers = async (url) =>
  fetch(url).then(
    () => true,
    () => false,
  );

async function eventStatus(id) {
  const response = await fetch(`http://localhost:${PORT}/admin/api/events/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return response.status === 200 ? (await response.json()).event.status : `HTTP ${response.status}`;
}

/** The event's ledger status once it is `wanted`, or its last status after 30 s of polling. */
async function statusWithin30s(id, wanted) {
  let status;
  for (let i = 0; i < 120 && status !== wanted; i++) {
    status = await eventStatus(id);
    if (status !== wanted) await new Promise((r) => setTimeout(r, 250));
  }
  return status;
}

/** Starts dev:stripe and waits until its `stripe listen` holds the fake's WebSocket (so the Worker answered). */
async function started(args = []) {
  run = startScript("dev:stripe", { args: ["--port", PORT, ...args], cwd: dir, env: isolatedEnv({ STRIPE_API_KEY: KEY }) });
  await Promise.race([
    fake.cliConnected(),
    run.exited.then((code) => assert.fail(`dev:stripe exited (${code}) before stripe listen connected:\n${run.output()}`)),
  ]);
  return run;
}

beforeEach(async () => {
  dir = projectCopy();
  fake = await startFakeStripe({ apiKey: KEY });
  // STRIPE_API_BASE in .dev.vars points both the scripts' CLI and the Worker at the fake.
  writeFileSync(
    join(dir, ".dev.vars"),
    `# the developer's own lines stay\nADMIN_TOKEN=${TOKEN}\nSTRIPE_WEBHOOK_SECRET=whsec_stale_from_yesterday\n` +
      `STRIPE_SECRET_KEY=\nSTRIPE_API_BASE=${fake.base}\n`,
  );
});
afterEach(async () => {
  if (run && (await Promise.race([run.exited.then(() => false), Promise.resolve(true)]))) {
    run.child.kill("SIGTERM");
    await run.exited;
  }
  await fake.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run dev:stripe (real Stripe CLI, fake Stripe API, real Worker)", () => {
  it("writes the secret before wrangler dev starts, forwards an event that ends processed, and one Ctrl-C stops both", async () => {
    await started();
    assert.equal(
      readFileSync(join(dir, ".dev.vars"), "utf8"),
      `# the developer's own lines stay\nADMIN_TOKEN=${TOKEN}\nSTRIPE_WEBHOOK_SECRET=${fake.sessionSecret}\n` +
        `STRIPE_SECRET_KEY=\nSTRIPE_API_BASE=${fake.base}\nSTRIPE_MODE=test\n`,
    );
    const output = run.output();
    assert.match(output, /Using the Stripe CLI 1\.42\.14 from node_modules/);
    assert.ok(output.indexOf("Wrote the `stripe listen` signing secret") < output.indexOf("[worker]"), output);
    assert.ok(output.indexOf("[worker]") < output.indexOf("[stripe]"), "stripe listen starts once the Worker answers");

    // Stripe (the fake) signs with the session secret; the CLI forwards; the Worker, started after
    // the secret was written and never restarted, verifies, records and processes it.
    const session = { ...fixture("checkout.session.json"), status: "complete", payment_status: "paid" };
    const event = {
      ...fixture("event.json"),
      id: `evt_dev_stripe_${Date.now()}`,
      type: "checkout.session.completed",
      created: Math.floor(Date.now() / 1000),
      data: { object: session },
    };
    const answer = await fake.sendEvent(event);
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(JSON.parse(answer.body), { received: true, id: event.id, duplicate: false });
    assert.equal(await statusWithin30s(event.id, "processed"), "processed");
    await run.waitFor(/\[stripe\].*\[200\] POST http:\/\/localhost:8874\/webhooks\/stripe/);

    run.child.kill("SIGINT");
    assert.equal(await run.exited, 130);
    await fake.cliDisconnected();
    assert.equal(await answers(`http://localhost:${PORT}/health`), false, "wrangler dev stopped");
    assert.match(run.output(), /SIGINT received: stopping worker and stripe/);
  });

  it("with --thin, forwards a thin event that the Worker processes by fetching its object from the API (the fake)", async () => {
    // The Worker needs a key to fetch a thin event's data; STRIPE_API_BASE already points it at the fake.
    writeFileSync(
      join(dir, ".dev.vars"),
      readFileSync(join(dir, ".dev.vars"), "utf8").replace(/^STRIPE_SECRET_KEY=$/m, `STRIPE_SECRET_KEY=${KEY}`),
    );
    await started(["--thin"]);
    assert.match(run.output(), /stripe listen forwarding \d+ thin event types to http:\/\/localhost:8874\/webhooks\/stripe\/thin/);

    const subscription = { ...fixture("subscription.json"), id: `sub_dev_thin_${Date.now()}`, status: "past_due" };
    fake.serveObject(`/v1/subscriptions/${subscription.id}`, subscription);
    const { related_object: _sample, ...envelope } = JSON.parse(
      readFileSync(join(ROOT, "test", "fixtures", "thin-events", "notifications.json"), "utf8"),
    )[0];
    const notification = {
      ...envelope,
      id: `evt_dev_thin_${Date.now()}`,
      type: "v1.customer.subscription.updated",
      created: new Date().toISOString(),
      context: null,
      related_object: { id: subscription.id, type: "subscription", url: `/v1/subscriptions/${subscription.id}` },
    };
    const answer = await fake.sendThinEvent(notification);
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(JSON.parse(answer.body), { received: true, id: notification.id, duplicate: false });
    assert.equal(await statusWithin30s(notification.id, "processed"), "processed");
    // The fake answers only its key (401 otherwise), so this fetch was made with STRIPE_SECRET_KEY.
    assert.ok(
      fake.requests.some((r) => r.method === "GET" && r.path === `/v1/subscriptions/${subscription.id}`),
      "the Worker fetched the related object",
    );
    run.child.kill("SIGINT");
    assert.equal(await run.exited, 130);
    await fake.cliDisconnected();
  });

  it("stops both on SIGTERM", async () => {
    await started();
    run.child.kill("SIGTERM");
    assert.equal(await run.exited, 143);
    await fake.cliDisconnected();
    assert.equal(await answers(`http://localhost:${PORT}/health`), false);
  });

  it("starts nothing and keeps .dev.vars when the CLI gets no session", async () => {
    const before = readFileSync(join(dir, ".dev.vars"), "utf8");
    const { status, output } = await runScript("dev:stripe", {
      args: ["--port", PORT],
      cwd: dir,
      env: isolatedEnv({ STRIPE_API_KEY: "sk_test_not_the_fakes_key" }),
    });
    assert.equal(status, 1);
    assert.match(output, /npx stripe login/);
    assert.doesNotMatch(output, /\[worker\]/);
    assert.equal(readFileSync(join(dir, ".dev.vars"), "utf8"), before);
  });
});
