// Creates .dev.vars from .dev.vars.example on first `npm run dev`, so a fresh clone runs with a
// local webhook secret and no manual step. An existing .dev.vars is never touched.
import { copyFileSync, existsSync } from "node:fs";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example (local development secret). Edit it to use your `stripe listen` secret.");
}
