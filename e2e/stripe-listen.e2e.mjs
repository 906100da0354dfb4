// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// `npm run stripe:listen` against a fake `stripe` executable put first on PATH. Runs under Node's
// test runner (node --test), not workerd: the script is a Node CLI that spawns processes.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const SCRIPT = join(ROOT, "scripts", "stripe-listen.mjs");
const EVENTS = JSON.parse(readFileSync(join(ROOT, "scripts", "stripe-listen-events.json"), "utf8"));

let dir;
let bin;

/** A fake Stripe CLI: records each argv as a JSON line; `--print-secret` prints $FAKE_SECRET or fails. */
function installFakeStripe() {
  bin = join(dir, "bin");
  mkdirSync(bin);
  const path = join(bin, "stripe");
  writeFileSync(
    path,
    `#!${process.execPath}
const fs = require("node:fs");
fs.appendFileSync(${JSON.stringify(join(dir, "calls.jsonl"))}, JSON.stringify(process.argv.slice(2)) + "\\n");
if (process.argv.includes("--print-secret")) {
  if (!process.env.FAKE_SECRET) { console.error("You have not configured API keys yet. Run stripe login."); process.exit(1); }
  console.log(process.env.FAKE_SECRET);
}
`,
  );
  chmodSync(path, 0o755);
}

function run(env = {}, args = []) {
  return spawnSync(process.execPath, [SCRIPT, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, ...env } });
}

const calls = () => (existsSync(join(dir, "calls.jsonl")) ? readFileSync(join(dir, "calls.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l)) : []);
const devVars = () => readFileSync(join(dir, ".dev.vars"), "utf8");

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "stripe-listen-"));
  copyFileSync(join(ROOT, ".dev.vars.example"), join(dir, ".dev.vars.example"));
  copyFileSync(join(ROOT, "wrangler.toml"), join(dir, "wrangler.toml"));
  installFakeStripe();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("npm run stripe:listen", () => {
  it("creates .dev.vars from the example with the printed secret, asks for a restart, and forwards the handled events to the dev port", () => {
    const result = run({ FAKE_SECRET: "whsec_from_fake_cli" });
    assert.equal(result.status, 0, result.stderr);
    const example = readFileSync(join(dir, ".dev.vars.example"), "utf8");
    assert.equal(devVars(), example.replace(/^STRIPE_WEBHOOK_SECRET=.*$/m, "STRIPE_WEBHOOK_SECRET=whsec_from_fake_cli"));
    assert.match(result.stdout, /restart it now/);
    assert.deepEqual(calls(), [
      ["listen", "--print-secret"],
      ["listen", "--forward-to", "http://localhost:8787/webhooks/stripe", "--events", EVENTS.join(",")],
    ]);
  });

  it("keeps every other line of an existing .dev.vars and says no restart is needed when the secret is unchanged", () => {
    writeFileSync(join(dir, ".dev.vars"), "# mine\nADMIN_TOKEN=keep-me\nSTRIPE_WEBHOOK_SECRET=whsec_old\nSTRIPE_SECRET_KEY=rk_test_keep\n");
    assert.equal(run({ FAKE_SECRET: "whsec_new" }).status, 0);
    assert.equal(devVars(), "# mine\nADMIN_TOKEN=keep-me\nSTRIPE_WEBHOOK_SECRET=whsec_new\nSTRIPE_SECRET_KEY=rk_test_keep\n");
    const again = run({ FAKE_SECRET: "whsec_new" });
    assert.match(again.stdout, /no restart of `npm run dev` needed/);
    assert.doesNotMatch(again.stdout, /restart it now/);
  });

  it("adds the secret line when .dev.vars has none, and honours --port and extra stripe flags", () => {
    writeFileSync(join(dir, ".dev.vars"), "ADMIN_TOKEN=x\n");
    assert.equal(run({ FAKE_SECRET: "whsec_added" }, ["--port", "8871", "--api-key", "rk_test_1"]).status, 0);
    assert.equal(devVars(), "ADMIN_TOKEN=x\nSTRIPE_WEBHOOK_SECRET=whsec_added\n");
    assert.deepEqual(calls().at(-1), ["listen", "--forward-to", "http://localhost:8871/webhooks/stripe", "--events", EVENTS.join(","), "--api-key", "rk_test_1"]);
  });

  it("explains stripe login and leaves .dev.vars alone when the CLI prints no secret", () => {
    writeFileSync(join(dir, ".dev.vars"), "STRIPE_WEBHOOK_SECRET=whsec_untouched\n");
    const result = run({ FAKE_SECRET: "" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /stripe login/);
    assert.equal(devVars(), "STRIPE_WEBHOOK_SECRET=whsec_untouched\n");
    assert.equal(calls().length, 1);
  });

  it("tells how to install the CLI and points to npm run send when stripe is not on PATH", () => {
    const result = spawnSync(process.execPath, [SCRIPT], { cwd: dir, encoding: "utf8", env: { ...process.env, PATH: join(dir, "empty") } });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /is not on your PATH/);
    assert.match(result.stderr, /brew install stripe\/stripe-cli\/stripe/);
    assert.match(result.stderr, /npm run send -- checkout.session.completed/);
    assert.equal(existsSync(join(dir, ".dev.vars")), false);
  });
});
