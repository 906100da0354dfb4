// .dev.vars, the local secrets file `wrangler dev` reads, as the scripts see it (in the current
// directory, like wrangler).
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

const FILE = ".dev.vars";

/** Creates .dev.vars from .dev.vars.example when missing (an existing one is never touched); true when created. */
export function ensureDevVars() {
  if (existsSync(FILE)) return false;
  copyFileSync(".dev.vars.example", FILE);
  return true;
}

/** The value of NAME in .dev.vars (quotes removed), or undefined when the file or the line is absent. */
export function readDevVar(name) {
  if (!existsSync(FILE)) return undefined;
  const line = readFileSync(FILE, "utf8")
    .split("\n")
    .find((l) => new RegExp(`^\\s*${name}\\s*=`).test(l));
  return line
    ?.slice(line.indexOf("=") + 1)
    .trim()
    .replace(/^(["'])(.*)\1$/, "$2");
}

/** A setting from the environment, else from .dev.vars; undefined when blank in both. */
export function setting(name) {
  const value = process.env[name]?.trim() || readDevVar(name);
  return value ? value : undefined;
}

/** Sets NAME=value in .dev.vars, keeping every other line; true when the file changed. */
export function writeDevVar(name, value) {
  const before = readFileSync(FILE, "utf8");
  const line = `${name}=${value}`;
  const lines = before.split("\n");
  const at = lines.findIndex((l) => new RegExp(`^\\s*${name}\\s*=`).test(l));
  if (at === -1) lines.splice(before.endsWith("\n") ? lines.length - 1 : lines.length, 0, line);
  else lines[at] = line;
  const after = lines.join("\n");
  if (after === before) return false;
  writeFileSync(FILE, after);
  return true;
}
