// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// `npm run send -- --thin` end to end, offline: the real Worker under `wrangler dev` in a throwaway
// copy of the project (its own .dev.vars and local D1), pointed by STRIPE_API_BASE at the Stripe API
// stub that `send` starts, exactly as README tells a developer to set it up.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { WRANGLER } from "../scripts/lib/local-dev.mjs";
import { runScript } from "./scripts.mjs";
import { ROOT } from "./worker.mjs";

const PORT = "8876";
const STUB = "http://127.0.0.1:8879";
const TOKEN = "e2e-send-thin-admin-token-0123456789";
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };

let dir;
let worker;

async function eventStatus(id) {
  const response = await fetch(`http://localhost:${PORT}/admin/api/events/${id}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return response.status === 200 ? (await response.json()).event : null;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "send-thin-"));
  for (const name of ["src", "migrations", "node_modules", "scripts", "test"]) symlinkSync(join(ROOT, name), join(dir, name));
  for (const name of ["wrangler.toml", "package.json", "tsconfig.json", "worker-configuration.d.ts"])
    copyFileSync(join(ROOT, name), join(dir, name));
  // What README says to put in .dev.vars for `send --thin`.
  writeFileSync(
    join(dir, ".dev.vars"),
    `STRIPE_WEBHOOK_SECRET=whsec_send_thin_e2e\nSTRIPE_MODE=test\nADMIN_TOKEN=${TOKEN}\n` +
      `STRIPE_SECRET_KEY=sk_test_local_stub\nSTRIPE_API_BASE=${STUB}\n`,
  );
  const migrated = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local"], {
    cwd: dir,
    env: ENV,
    encoding: "utf8",
  });
  assert.equal(migrated.status, 0, migrated.stderr);
  worker = spawn(
    process.execPath,
    [WRANGLER, "dev", "--port", PORT, "--ip", "127.0.0.1", "--inspector-port", "8877", "--show-interactive-dev-session=false"],
    { cwd: dir, env: ENV, stdio: "ignore", detached: true },
  );
  for (let i = 0; i < 240; i++) {
    if (
      await fetch(`http://localhost:${PORT}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail("wrangler dev did not answer /health");
});
after(() => {
  try {
    process.kill(-worker.pid, "SIGTERM");
  } catch {
    // already gone
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run send -- --thin (real Worker, local Stripe API stub)", () => {
  it("posts a signed thin notification, answers the Worker's fetch of its object, and the event ends processed", async () => {
    const { status, output } = await runScript("send", {
      args: [
        "--thin",
        "v1.customer.subscription.updated",
        "--set",
        "status=past_due",
        "--url",
        `http://localhost:${PORT}/webhooks/stripe/thin`,
      ],
      cwd: dir,
      env: ENV,
    });
    assert.equal(status, 0, output);
    const id = output.match(/POST \S+ v1\.customer\.subscription\.updated (evt_local_\w+)/)?.[1];
    assert.ok(id, output);
    assert.match(output, /→ 200 \{"received":true/);
    assert.match(output, /status after [\d.]+ s: processed/);
    assert.match(
      output,
      new RegExp(`Stripe API stub \\(${STUB.replaceAll(".", "\\.")}\\) answered GET /v1/subscriptions/sub_\\w+ → 200\\n`),
    );
    const event = await eventStatus(id);
    assert.equal(event.status, "processed");
    assert.equal(event.payload.object, "v2.core.event");
  });

  it("sends a v2 ping that ends ignored without any API call", async () => {
    const { status, output } = await runScript("send", {
      args: ["--thin", "v2.core.event_destination.ping", "--url", `http://localhost:${PORT}/webhooks/stripe/thin`],
      cwd: dir,
      env: ENV,
    });
    assert.equal(status, 0, output);
    assert.match(output, /status after [\d.]+ s: ignored/);
    assert.doesNotMatch(output, /Stripe API stub/);
  });

  it("refuses a thin notification at the snapshot endpoint, naming the thin URL", async () => {
    const { output } = await runScript("send", {
      args: ["--thin", "v1.invoice.paid", "--url", `http://localhost:${PORT}/webhooks/stripe`],
      cwd: dir,
      env: ENV,
    });
    assert.match(output, /→ 400 .*"payload_invalid".*\/webhooks\/stripe\/thin/);
  });
});
