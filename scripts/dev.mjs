#!/usr/bin/env node
// `npm run dev`: the whole local set-up and the Worker, with no Cloudflare account and no Stripe account.
//
//   npm run dev [-- --port 8787]
//
// 1. creates .dev.vars from .dev.vars.example when missing, and replaces its placeholders (there, or
//    left in an older .dev.vars) with local values: a random signing secret, which `npm run send`
//    signs with, and STRIPE_MODE=test; every other line is kept;
// 2. applies the D1 migrations to the local database;
// 3. runs `wrangler dev` (local D1 and Queues) and, once it answers, fires its cron every minute as
//    Cloudflare would (the re-drive, retention and recovery run locally as in production).
// Ctrl-C stops everything.
import { ensureDevVars, fillDevVarPlaceholders } from "./lib/dev-vars.mjs";
import { answers, applyLocalMigrations, fireCronEveryMinute, takePortFlag, WRANGLER } from "./lib/local-dev.mjs";
import { ProcessGroup } from "./lib/run-together.mjs";

const { port } = takePortFlag(process.argv.slice(2));
if (ensureDevVars()) console.log("Created .dev.vars from .dev.vars.example.");
const filled = fillDevVarPlaceholders();
if (filled.includes("STRIPE_WEBHOOK_SECRET"))
  console.log(
    "Wrote a random local signing secret to .dev.vars (STRIPE_WEBHOOK_SECRET): `npm run send` signs with it; " +
      "`npm run dev:stripe` puts your `stripe listen` secret there instead.",
  );
if (filled.includes("STRIPE_MODE")) console.log("Wrote STRIPE_MODE=test to .dev.vars.");
if (!applyLocalMigrations()) process.exit(1);

const group = new ProcessGroup();
const local = `http://localhost:${port}`;
group.start("worker", process.execPath, [WRANGLER, "dev", "--port", port, "--show-interactive-dev-session=false"]);
if (await answers(`${local}/health`, () => group.running("worker"))) {
  fireCronEveryMinute(local);
  console.log(
    `The Worker answers on ${local} (POST /webhooks/stripe; GET /health). Its cron fires every minute. ` +
      "Send a test event: npm run send -- checkout.session.completed",
  );
}
process.exit(await group.done);
