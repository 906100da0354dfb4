// Runs before `wrangler dev` so that `npm install && npm run dev` is the whole local set-up:
// 1. creates .dev.vars from .dev.vars.example when missing (an existing one is never touched);
// 2. applies the D1 migrations to the local database, without the confirmation prompt
//    (wrangler asks on a terminal; stdin is closed here so it takes its non-interactive default).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (a local development secret). Put your `stripe listen` secret there to use the Stripe CLI.");
}

const wrangler = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");
const result = spawnSync(process.execPath, [wrangler, "d1", "migrations", "apply", "DB", "--local"], { stdio: ["ignore", "inherit", "inherit"] });
process.exit(result.status ?? 1);
