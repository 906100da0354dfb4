#!/usr/bin/env node
// `npm run dev`: the whole local set-up and the Worker, with no Cloudflare account and no Stripe account.
//
//   npm run dev [-- --port 8787]
//
// 1. creates .dev.vars from .dev.vars.example when missing (an existing one is never touched);
// 2. applies the D1 migrations to the local database;
// 3. runs `wrangler dev` (local D1 and Queues) and, once it answers, fires its cron every minute as
//    Cloudflare would (the re-drive, retention and recovery run locally as in production).
// Ctrl-C stops everything.
import { ensureDevVars } from "./lib/dev-vars.mjs";
import { answers, applyLocalMigrations, fireCronEveryMinute, takePortFlag, WRANGLER } from "./lib/local-dev.mjs";
import { ProcessGroup } from "./lib/run-together.mjs";

const { port } = takePortFlag(process.argv.slice(2));
if (ensureDevVars()) {
  console.log(
    "Created .dev.vars from .dev.vars.example (a local development secret). " +
      "`npm run dev:stripe` puts your `stripe listen` secret there instead.",
  );
}
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
