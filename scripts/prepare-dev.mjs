// Runs before `wrangler dev` so that `npm install && npm run dev` is the whole local set-up:
// 1. creates .dev.vars from .dev.vars.example when missing (an existing one is never touched);
// 2. applies the D1 migrations to the local database.
import { ensureDevVars } from "./lib/dev-vars.mjs";
import { applyLocalMigrations } from "./lib/local-dev.mjs";

if (ensureDevVars()) {
  console.log("Created .dev.vars from .dev.vars.example (a local development secret). `npm run dev:stripe` puts your `stripe listen` secret there instead.");
}
process.exit(applyLocalMigrations() ? 0 : 1);
