#!/usr/bin/env node
// Fails when a line of the project's own code is longer than 140 characters (`npm run lint` runs it
// after Biome). Biome formats to the same width but never breaks a string, template literal or
// comment, so a long message would otherwise slip through: split it into literals joined with `+`.
// Checks the .ts, .tsx, .mjs and .js files git tracks, except worker-configuration.d.ts, which
// wrangler generates. Prints `file:line: N characters (max 140)` for each offender; exits 1 if any.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

const MAX = 140;
const GENERATED = new Set(["worker-configuration.d.ts"]);

const files = execFileSync("git", ["ls-files", "-z", "--", "*.ts", "*.tsx", "*.mjs", "*.js"], { encoding: "utf8" })
  .split("\0")
  // Deleted in the work tree but not yet in the index: nothing to read.
  .filter((file) => file !== "" && !GENERATED.has(file) && existsSync(file));

let offenders = 0;
for (const file of files) {
  readFileSync(file, "utf8")
    .split(/\r?\n/)
    .forEach((line, i) => {
      // Characters, not UTF-16 units or bytes: "→" and "…" count one each.
      const length = [...line].length;
      if (length > MAX) {
        console.error(`${file}:${i + 1}: ${length} characters (max ${MAX})`);
        offenders++;
      }
    });
}
if (offenders > 0) {
  console.error(
    `${offenders} line(s) over ${MAX} characters. Biome's formatter does not break strings or comments: ` +
      "split a long literal into several joined with `+`, rewrap a long comment.",
  );
  process.exit(1);
}
