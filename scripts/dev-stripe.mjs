#!/usr/bin/env node
// Local development with real Stripe test events, in one command and with no restart:
//
//   npm run dev:stripe [-- --port 8787] [-- --thin] [-- any extra `stripe listen` flags, e.g. --api-key rk_test_…]
//
// 1. `stripe listen --print-secret` gets the signing secret of your CLI session, and it is written
//    as STRIPE_WEBHOOK_SECRET into .dev.vars (created from .dev.vars.example when missing; every
//    other line kept, but a STRIPE_MODE placeholder becomes `test`) before the Worker starts, so the
//    Worker verifies with it from its first request;
// 2. the D1 migrations are applied to the local database;
// 3. `wrangler dev` starts, and once it answers, `stripe listen --forward-to
//    http://localhost:<port>/webhooks/stripe --events <the handled types>` (with --thin: their thin
//    twins, `--forward-thin-to …/webhooks/stripe/thin --thin-events …`); both outputs are shown,
//    prefixed [worker] and [stripe], and the Worker's cron fires every minute as Cloudflare would.
//    One Ctrl-C (or SIGTERM) stops both; if either exits, so does the other.
// The CLI is the one pinned in package.json (@stripe/cli); STRIPE_CLI=stripe uses the one on PATH.
// STRIPE_API_BASE (environment or .dev.vars) is passed on to the CLI as --api-base.
import { fillDevVarPlaceholders, readDevVar, writeDevVar } from "./lib/dev-vars.mjs";
import { answers, applyLocalMigrations, fireCronEveryMinute, WRANGLER } from "./lib/local-dev.mjs";
import { ProcessGroup } from "./lib/run-together.mjs";
import { EVENTS, forwardArgs, prepareListen, THIN_EVENTS } from "./lib/stripe-cli.mjs";

const { port, thin, extra, cli, apiBase, secret } = prepareListen(process.argv.slice(2));
const changed = writeDevVar("STRIPE_WEBHOOK_SECRET", secret);
console.log(
  `${changed ? "Wrote" : "Kept"} the \`stripe listen\` signing secret in .dev.vars (STRIPE_WEBHOOK_SECRET); the Worker starts with it.`,
);
// The secret is the session's now; a STRIPE_MODE placeholder (a .dev.vars just made from the example)
// would make the Worker refuse every delivery.
if (fillDevVarPlaceholders().includes("STRIPE_MODE")) console.log("Wrote STRIPE_MODE=test to .dev.vars.");
if (!applyLocalMigrations()) process.exit(1);

const group = new ProcessGroup();
const local = `http://localhost:${port}`;
const target = thin
  ? `${THIN_EVENTS.length} thin event types to ${local}/webhooks/stripe/thin`
  : `${EVENTS.length} event types to ${local}/webhooks/stripe`;
console.log(`Starting wrangler dev on ${local}, then stripe listen forwarding ${target}. Ctrl-C stops both.`);
if (thin && !readDevVar("STRIPE_SECRET_KEY"))
  console.log("STRIPE_SECRET_KEY is not set in .dev.vars: the Worker records thin events but parks them until it is (then replay them).");
group.start("worker", process.execPath, [WRANGLER, "dev", "--port", port, "--show-interactive-dev-session=false"]);
if (await answers(`${local}/health`, () => group.running("worker"))) {
  fireCronEveryMinute(local);
  group.start("stripe", cli.command, forwardArgs(port, apiBase, extra, { thin }));
  console.log("Trigger an event with: npx stripe trigger checkout.session.completed");
}
process.exit(await group.done);
