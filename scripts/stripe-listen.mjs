#!/usr/bin/env node
// Connects the Stripe CLI to a local Worker that is already running (`npm run dev`):
//
//   npm run stripe:listen [-- --port 8787] [-- --thin] [-- any extra `stripe listen` flags, e.g. --api-key rk_test_…]
//
// 1. `stripe listen --print-secret` prints the signing secret of your CLI session;
// 2. that secret is written as STRIPE_WEBHOOK_SECRET into .dev.vars (created from .dev.vars.example
//    when missing; every other line is kept), telling you when `npm run dev` needs a restart;
// 3. `stripe listen --forward-to http://localhost:<port>/webhooks/stripe --events <the types the
//    built-in handlers use>` runs until you stop it (Ctrl-C); with --thin, `--forward-thin-to
//    http://localhost:<port>/webhooks/stripe/thin --thin-events <their v1. thin twins>` instead.
// `npm run dev:stripe` does all of this and starts the Worker too, with no restart. The CLI is the
// one pinned in package.json (@stripe/cli); STRIPE_CLI=stripe uses the one on PATH instead.
// STRIPE_API_BASE (environment or .dev.vars) is passed on as --api-base.
import { spawn } from "node:child_process";
import { readDevVar, writeDevVar } from "./lib/dev-vars.mjs";
import { EVENTS, forwardArgs, prepareListen, THIN_EVENTS } from "./lib/stripe-cli.mjs";

const { port, thin, extra, cli, apiBase, secret } = prepareListen(process.argv.slice(2));
if (writeDevVar("STRIPE_WEBHOOK_SECRET", secret)) {
  console.log(`Wrote the \`stripe listen\` signing secret to .dev.vars as STRIPE_WEBHOOK_SECRET.
If \`npm run dev\` is already running, restart it now so the Worker verifies with this secret
(\`npm run dev:stripe\` starts both in the right order).`);
} else {
  console.log(".dev.vars already has this `stripe listen` signing secret; no restart of `npm run dev` needed.");
}

if (thin) {
  console.log(
    `Forwarding ${THIN_EVENTS.length} thin event types to http://localhost:${port}/webhooks/stripe/thin ` +
      "(snapshot events are shown, not forwarded).",
  );
  if (!readDevVar("STRIPE_SECRET_KEY"))
    console.log("STRIPE_SECRET_KEY is not set in .dev.vars: the Worker records thin events but parks them until it is (then replay them).");
} else {
  console.log(
    `Forwarding ${EVENTS.length} event types to http://localhost:${port}/webhooks/stripe. ` +
      "Trigger one with: npx stripe trigger checkout.session.completed",
  );
}
const child = spawn(cli.command, forwardArgs(port, apiBase, extra, { thin }), { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
