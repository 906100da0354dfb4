// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// `npm run stripe:listen` with the real Stripe CLI binary (@stripe/cli, as npm installed it) against
// a local fake of the Stripe API (e2e/fake-stripe.mjs), forwarding to a stand-in for `npm run dev`
// that records what reaches it. Runs under Node's test runner (node --test).
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { startFakeStripe } from "./fake-stripe.mjs";
import { isolatedEnv, runScript, startScript } from "./scripts.mjs";
import { ROOT } from "./worker.mjs";

const KEY = "sk_test_fake_stripe_listen_e2e";
const EVENTS = JSON.parse(readFileSync(join(ROOT, "scripts", "stripe-listen-events.json"), "utf8"));
const THIN_EVENTS = JSON.parse(readFileSync(join(ROOT, "scripts", "stripe-listen-thin-events.json"), "utf8"));
/** A thin notification on the envelope of the SDK's sample (test/fixtures/thin-events). */
const thin = (type, related) => {
  const { related_object: _sample, ...envelope } = JSON.parse(
    readFileSync(join(ROOT, "test", "fixtures", "thin-events", "notifications.json"), "utf8"),
  )[0];
  return {
    ...envelope,
    id: `evt_listen_thin_${type.replaceAll(".", "_")}`,
    type,
    created: new Date().toISOString(),
    context: null,
    ...(related ? { related_object: related } : {}),
  };
};
const event = (type) => ({
  ...JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "stripe-objects", "event.json"), "utf8")),
  id: `evt_listen_${type.replaceAll(".", "_")}`,
  type,
});

let dir;
let fake;
let local;
const devVars = () => readFileSync(join(dir, ".dev.vars"), "utf8");

/** A stand-in for the Worker under `npm run dev`: records each delivery and answers 200. */
async function startLocalWorker() {
  const received = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      received.push({ path: req.url, signature: req.headers["stripe-signature"], body });
      res.writeHead(200, { "content-type": "application/json" }).end('{"received":true}');
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: String(server.address().port), received, stop: () => new Promise((r) => server.close(r)) };
}

/** Runs the script until its `stripe listen` holds the fake's WebSocket, then returns it running. */
async function listening(args, env) {
  const run = startScript("stripe:listen", { args: ["--port", local.port, ...args], cwd: dir, env });
  await Promise.race([
    fake.cliConnected(),
    run.exited.then((code) => assert.fail(`stripe:listen exited (${code}) before connecting:\n${run.output()}`)),
  ]);
  return run;
}

async function stop(run) {
  run.child.kill("SIGINT");
  await run.exited;
  await fake.cliDisconnected();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "stripe-listen-"));
  copyFileSync(join(ROOT, ".dev.vars.example"), join(dir, ".dev.vars.example"));
  copyFileSync(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
  fake = await startFakeStripe({ apiKey: KEY });
  local = await startLocalWorker();
});
afterEach(async () => {
  await fake.stop();
  await local.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run stripe:listen (real Stripe CLI, fake Stripe API)", () => {
  it(
    "writes the session's secret into a new .dev.vars, asks for a restart, and forwards only the handled types, signed, " +
      "to the dev port",
    async () => {
      const run = await listening([], isolatedEnv({ STRIPE_API_KEY: KEY, STRIPE_API_BASE: fake.base }));
      const example = readFileSync(join(dir, ".dev.vars.example"), "utf8");
      assert.equal(devVars(), example.replace(/^STRIPE_WEBHOOK_SECRET=.*$/m, `STRIPE_WEBHOOK_SECRET=${fake.sessionSecret}`));
      assert.match(run.output(), /Using the Stripe CLI 1\.42\.14 from node_modules/);
      assert.match(run.output(), /restart it now/);

      fake.sendEvent(event("balance.available")); // not a handled type: the CLI must not forward it
      const answer = await fake.sendEvent(event("customer.created"));
      assert.equal(answer.status, 200);
      assert.deepEqual(
        local.received.map((r) => [r.path, JSON.parse(r.body).type]),
        [["/webhooks/stripe", "customer.created"]],
      );
      const { signature, body } = local.received[0];
      const t = signature.match(/t=(\d+)/)[1];
      assert.equal(signature.match(/v1=(\w+)/)[1], createHmac("sha256", fake.sessionSecret).update(`${t}.${body}`).digest("hex"));

      const sessions = fake.requests.filter((r) => r.path === "/v1/stripecli/sessions");
      assert.equal(sessions.length, 2, "one session for --print-secret, one for listening");
      assert.equal(sessions[1].form.forward_to_url, `http://localhost:${local.port}/webhooks/stripe`);
      assert.match(run.output(), new RegExp(`Forwarding ${EVENTS.length} event types`));
      await stop(run);
    },
  );

  it("with --thin, writes the same secret and forwards only the handled thin types, signed, to /webhooks/stripe/thin", async () => {
    const run = await listening(["--thin"], isolatedEnv({ STRIPE_API_KEY: KEY, STRIPE_API_BASE: fake.base }));
    assert.match(devVars(), new RegExp(`^STRIPE_WEBHOOK_SECRET=${fake.sessionSecret}$`, "m"));
    assert.match(
      run.output(),
      new RegExp(`Forwarding ${THIN_EVENTS.length} thin event types to http://localhost:${local.port}/webhooks/stripe/thin`),
    );
    assert.match(run.output(), /STRIPE_SECRET_KEY is not set in \.dev\.vars: the Worker records thin events but parks them/);

    fake.sendThinEvent(
      thin("v2.core.event_destination.ping", { id: "ed_x", type: "v2.core.event_destination", url: "/v2/core/event_destinations/ed_x" }),
    ); // not handled: not forwarded
    fake.sendEvent(event("customer.created")); // a snapshot event: shown, not forwarded (so never answered)
    const n = thin("v1.customer.subscription.updated", { id: "sub_listen", type: "subscription", url: "/v1/subscriptions/sub_listen" });
    const answer = await fake.sendThinEvent(n);
    assert.equal(answer.status, 200);
    assert.deepEqual(
      local.received.map((r) => [r.path, JSON.parse(r.body).type]),
      [["/webhooks/stripe/thin", "v1.customer.subscription.updated"]],
    );
    const { signature, body } = local.received[0];
    assert.equal(body, JSON.stringify(n));
    const t = signature.match(/t=(\d+)/)[1];
    assert.equal(signature.match(/v1=(\w+)/)[1], createHmac("sha256", fake.sessionSecret).update(`${t}.${body}`).digest("hex"));

    const session = fake.requests.filter((r) => r.path === "/v1/stripecli/sessions")[1];
    assert.equal(session.form.forward_thin_to_url, `http://localhost:${local.port}/webhooks/stripe/thin`);
    assert.equal(session.form.forward_to_url, undefined);
    assert.ok(session.form.websocket_features.includes("v2_events"), JSON.stringify(session.form));
    await stop(run);
  });

  it("keeps every other line of .dev.vars (STRIPE_API_BASE read from it) and needs no restart when the secret is unchanged", async () => {
    writeFileSync(join(dir, ".dev.vars"), `# mine\nADMIN_TOKEN=keep-me\nSTRIPE_WEBHOOK_SECRET=whsec_old\nSTRIPE_API_BASE=${fake.base}\n`);
    const env = isolatedEnv({ STRIPE_API_KEY: KEY });
    await stop(await listening([], env));
    assert.equal(devVars(), `# mine\nADMIN_TOKEN=keep-me\nSTRIPE_WEBHOOK_SECRET=${fake.sessionSecret}\nSTRIPE_API_BASE=${fake.base}\n`);
    const again = await listening([], env);
    assert.match(again.output(), /no restart of `npm run dev` needed/);
    assert.doesNotMatch(again.output(), /restart it now/);
    await stop(again);
  });

  it("adds the secret line when .dev.vars has none, and passes extra flags (here --api-key) to both stripe listen calls", async () => {
    writeFileSync(join(dir, ".dev.vars"), "ADMIN_TOKEN=x\n");
    await stop(await listening(["--api-key", KEY], isolatedEnv({ STRIPE_API_BASE: fake.base })));
    assert.equal(devVars(), `ADMIN_TOKEN=x\nSTRIPE_WEBHOOK_SECRET=${fake.sessionSecret}\n`);
    assert.equal(fake.requests.filter((r) => r.path === "/v1/stripecli/sessions").length, 2);
  });

  it("explains how to log in and leaves .dev.vars alone when the CLI gets no session", async () => {
    writeFileSync(join(dir, ".dev.vars"), "STRIPE_WEBHOOK_SECRET=whsec_untouched\n");
    const { status, output } = await runScript("stripe:listen", {
      cwd: dir,
      env: isolatedEnv({ STRIPE_API_KEY: "sk_test_not_the_fakes_key", STRIPE_API_BASE: fake.base }),
    });
    assert.equal(status, 1);
    assert.match(output, /did not print a signing secret/);
    assert.match(output, /status=401/);
    assert.match(output, /npx stripe login/);
    assert.equal(devVars(), "STRIPE_WEBHOOK_SECRET=whsec_untouched\n");
  });

  it("explains how to log in when the CLI has no API key at all", async () => {
    const { status, output } = await runScript("stripe:listen", { cwd: dir, env: isolatedEnv({ STRIPE_API_BASE: fake.base }) });
    assert.equal(status, 1);
    assert.match(output, /npx stripe login/);
    assert.equal(existsSync(join(dir, ".dev.vars")), false);
    assert.deepEqual(fake.requests, []);
  });

  it("refuses a plain-http STRIPE_API_BASE that is not loopback before running the CLI", async () => {
    const { status, output } = await runScript("stripe:listen", {
      cwd: dir,
      env: isolatedEnv({ STRIPE_API_KEY: KEY, STRIPE_API_BASE: "http://stripe-mock.internal:12111" }),
    });
    assert.equal(status, 1);
    assert.match(output, /STRIPE_API_BASE uses plain http:\/\/ for an address that is not loopback/);
    assert.equal(existsSync(join(dir, ".dev.vars")), false);
  });

  it("says so when STRIPE_CLI names a binary that does not exist", async () => {
    const { status, output } = await runScript("stripe:listen", {
      cwd: dir,
      env: isolatedEnv({ STRIPE_CLI: join(dir, "no-such-stripe"), STRIPE_API_BASE: fake.base }),
    });
    assert.equal(status, 1);
    assert.match(output, /Using the Stripe CLI from STRIPE_CLI/);
    assert.match(output, /was not found\. Unset STRIPE_CLI/);
    assert.equal(existsSync(join(dir, ".dev.vars")), false);
  });
});
