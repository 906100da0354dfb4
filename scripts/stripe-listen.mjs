#!/usr/bin/env node
// Connects the Stripe CLI to the local Worker:
//
//   npm run stripe:listen [-- --port 8787] [-- any extra `stripe listen` flags, e.g. --api-key rk_test_…]
//
// 1. `stripe listen --print-secret` prints the signing secret of your CLI session;
// 2. that secret is written as STRIPE_WEBHOOK_SECRET into .dev.vars (created from .dev.vars.example
//    when missing; every other line is kept), telling you when `npm run dev` needs a restart;
// 3. `stripe listen --forward-to http://localhost:<port>/webhooks/stripe --events <the types the
//    built-in handlers use>` runs until you stop it (Ctrl-C).
// No Stripe account or network? `npm run send -- <event type>` signs and posts events offline.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const EVENTS = JSON.parse(readFileSync(new URL("./stripe-listen-events.json", import.meta.url), "utf8"));

// Not strict: every flag other than --port is passed on to `stripe listen`.
const { values } = parseArgs({
  allowPositionals: true,
  strict: false,
  options: { port: { type: "string" } },
});
const port = values.port ?? devPortFromWranglerToml() ?? "8787";
const extra = process.argv.slice(2).filter((a, i, all) => !(a === "--port" || all[i - 1] === "--port" || a.startsWith("--port=")));

const printed = spawnSync("stripe", ["listen", "--print-secret", ...extra], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
if (printed.error?.code === "ENOENT") {
  console.error(`The Stripe CLI (\`stripe\`) is not on your PATH.

Install it: https://docs.stripe.com/stripe-cli
  macOS:   brew install stripe/stripe-cli/stripe
  Linux:   download the tarball from https://github.com/stripe/stripe-cli/releases and put \`stripe\` on PATH
  Windows: scoop bucket add stripe https://github.com/stripe/scoop-stripe-cli.git && scoop install stripe
then run \`stripe login\` once and \`npm run stripe:listen\` again.

No Stripe account or no network? Send signed test events offline instead:
  npm run dev                                        (in one terminal)
  npm run send -- checkout.session.completed         (in another)`);
  process.exit(1);
}
const secret = (printed.stdout ?? "").trim().split(/\s+/).find((w) => w.startsWith("whsec_"));
if (printed.status !== 0 || !secret) {
  console.error(`\`stripe listen --print-secret\` did not print a signing secret (exit ${printed.status}).`);
  if (printed.stderr) console.error(printed.stderr.trim());
  console.error("Usually this means the CLI is not logged in: run `stripe login` (or pass --api-key rk_test_…), then try again.");
  process.exit(1);
}

const changed = writeSecret(secret);
if (changed) {
  console.log(`Wrote the \`stripe listen\` signing secret to .dev.vars as STRIPE_WEBHOOK_SECRET.
If \`npm run dev\` is already running, restart it now so the Worker verifies with this secret.`);
} else {
  console.log(".dev.vars already has this `stripe listen` signing secret; no restart of `npm run dev` needed.");
}

const forwardTo = `http://localhost:${port}/webhooks/stripe`;
console.log(`Forwarding ${EVENTS.length} event types to ${forwardTo}. Trigger one with: stripe trigger checkout.session.completed`);
const child = spawn("stripe", ["listen", "--forward-to", forwardTo, "--events", EVENTS.join(","), ...extra], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));

/** Sets STRIPE_WEBHOOK_SECRET in .dev.vars, keeping every other line; true when the file changed. */
function writeSecret(value) {
  if (!existsSync(".dev.vars")) {
    copyFileSync(".dev.vars.example", ".dev.vars");
    console.log("Created .dev.vars from .dev.vars.example.");
  }
  const before = readFileSync(".dev.vars", "utf8");
  const line = `STRIPE_WEBHOOK_SECRET=${value}`;
  const lines = before.split("\n");
  const at = lines.findIndex((l) => /^\s*STRIPE_WEBHOOK_SECRET\s*=/.test(l));
  if (at === -1) lines.splice(before.endsWith("\n") ? lines.length - 1 : lines.length, 0, line);
  else lines[at] = line;
  const after = lines.join("\n");
  if (after === before) return false;
  writeFileSync(".dev.vars", after);
  return true;
}

/** The `[dev] port` of wrangler.toml, which `npm run dev` listens on. */
function devPortFromWranglerToml() {
  if (!existsSync("wrangler.toml")) return undefined;
  const dev = readFileSync("wrangler.toml", "utf8").split(/^\[dev\]\s*$/m)[1];
  return dev?.split(/^\[/m)[0].match(/^\s*port\s*=\s*(\d+)/m)?.[1];
}
