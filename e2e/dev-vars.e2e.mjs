// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// The local secrets: .dev.vars.example holds only placeholders the Worker refuses, and `npm run dev`
// replaces them with a random signing secret and test mode, which `npm run send` then signs with.
// Run in throwaway copies of the project, so the developer's .dev.vars is neither read nor written.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { fillDevVarPlaceholders } from "../scripts/lib/dev-vars.mjs";
import { runScript, startScript } from "./scripts.mjs";
import { ROOT } from "./worker.mjs";

const PORT = "8864";
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };
const EXAMPLE = readFileSync(join(ROOT, ".dev.vars.example"), "utf8");
const LOCAL_SECRET = /^STRIPE_WEBHOOK_SECRET=(whsec_[0-9a-f]{64})$/m;

const dirs = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the project that `npm run dev` can run: sources and node_modules linked, config copied. */
function projectCopy() {
  const dir = mkdtempSync(join(tmpdir(), "dev-vars-"));
  dirs.push(dir);
  for (const name of ["src", "migrations", "node_modules", "scripts"]) symlinkSync(join(ROOT, name), join(dir, name));
  for (const name of ["wrangler.toml", "package.json", "tsconfig.json", "worker-configuration.d.ts", ".dev.vars.example"])
    copyFileSync(join(ROOT, name), join(dir, name));
  return dir;
}

describe(".dev.vars.example", () => {
  it("has no usable secret: the signing secret does not even start with whsec_, and the mode is neither live nor test", () => {
    assert.match(EXAMPLE, /^STRIPE_WEBHOOK_SECRET=replace-with-[\w-]+$/m);
    assert.match(EXAMPLE, /^STRIPE_MODE=replace-with-live-or-test$/m);
    assert.match(EXAMPLE, /^ADMIN_TOKEN=$/m, "an empty admin token keeps the console off");
    assert.doesNotMatch(EXAMPLE, /^\w+=whsec_/m);
  });
});

describe("npm run dev and npm run send with a new checkout (real Worker under wrangler dev)", () => {
  let dir;
  let dev;

  before(async () => {
    dir = projectCopy();
    dev = startScript("dev", { args: ["--port", PORT], cwd: dir, env: ENV });
    await Promise.race([
      dev.waitFor(/The Worker answers on/),
      dev.exited.then((code) => assert.fail(`npm run dev exited (${code}) before the Worker answered:\n${dev.output()}`)),
    ]);
  });
  after(async () => {
    dev.child.kill("SIGINT");
    await dev.exited;
  });

  it("creates .dev.vars with a random whsec_ secret and STRIPE_MODE=test in place of the placeholders, and says so", () => {
    const written = readFileSync(join(dir, ".dev.vars"), "utf8");
    const secret = written.match(LOCAL_SECRET)?.[1];
    assert.ok(secret, written);
    assert.equal(
      written,
      EXAMPLE.replace(/^STRIPE_WEBHOOK_SECRET=.*$/m, `STRIPE_WEBHOOK_SECRET=${secret}`).replace(/^STRIPE_MODE=.*$/m, "STRIPE_MODE=test"),
      "every other line of the example is kept",
    );
    assert.match(dev.output(), /Created \.dev\.vars from \.dev\.vars\.example\./);
    assert.match(dev.output(), /Wrote a random local signing secret to \.dev\.vars \(STRIPE_WEBHOOK_SECRET\)/);
    assert.match(dev.output(), /Wrote STRIPE_MODE=test to \.dev\.vars\./);
  });

  it("npm run send signs with that secret, and the Worker accepts and processes the event", async () => {
    const { status, output } = await runScript("send", {
      args: ["invoice.paid", "--url", `http://localhost:${PORT}/webhooks/stripe`],
      cwd: dir,
      env: ENV,
    });
    assert.equal(status, 0, output);
    assert.match(output, /→ 200 \{"received":true/);
    assert.match(output, /status after [\d.]+ s: processed/);
  });
});

describe("fillDevVarPlaceholders (what npm run dev does to an existing .dev.vars)", () => {
  const cwd = process.cwd();
  afterEach(() => process.chdir(cwd));

  /** Runs fillDevVarPlaceholders in a new directory whose .dev.vars is `content`; its result and the file after. */
  function fill(content) {
    const dir = mkdtempSync(join(tmpdir(), "dev-vars-fill-"));
    dirs.push(dir);
    writeFileSync(join(dir, ".dev.vars"), content);
    process.chdir(dir);
    const filled = fillDevVarPlaceholders();
    return { filled, after: readFileSync(join(dir, ".dev.vars"), "utf8") };
  }

  it("replaces placeholders, the old public example secret included, and keeps every other line", () => {
    const { filled, after } = fill(
      "# mine\nSTRIPE_WEBHOOK_SECRET=whsec_local_development_secret_change_me\nADMIN_TOKEN=keep\nSTRIPE_MODE=replace-with-live-or-test\n",
    );
    assert.deepEqual(filled, ["STRIPE_WEBHOOK_SECRET", "STRIPE_MODE"]);
    const secret = after.match(LOCAL_SECRET)?.[1];
    assert.ok(secret, after);
    assert.equal(after, `# mine\nSTRIPE_WEBHOOK_SECRET=${secret}\nADMIN_TOKEN=keep\nSTRIPE_MODE=test\n`);
  });

  it("leaves real values alone and adds no absent line but STRIPE_MODE=test (local development is test mode)", () => {
    const content = "STRIPE_WEBHOOK_SECRET=whsec_from_stripe_listen\nSTRIPE_MODE=live\n";
    assert.deepEqual(fill(content), { filled: [], after: content });
    assert.deepEqual(fill("ADMIN_TOKEN=x\n"), { filled: ["STRIPE_MODE"], after: "ADMIN_TOKEN=x\nSTRIPE_MODE=test\n" });
  });

  it("gives every checkout its own secret", () => {
    const a = fill("STRIPE_WEBHOOK_SECRET=replace-with-your-whsec-signing-secret\n").after.match(LOCAL_SECRET)[1];
    const b = fill("STRIPE_WEBHOOK_SECRET=replace-with-your-whsec-signing-secret\n").after.match(LOCAL_SECRET)[1];
    assert.notEqual(a, b);
  });
});
