// .dev.vars, the local secrets file `wrangler dev` reads, as the scripts see it (in the current
// directory, like wrangler).
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

const FILE = ".dev.vars";

/**
 * The local value of each setting whose .dev.vars.example entry is a placeholder the Worker refuses.
 * The secret is random per checkout: a fixed one would be public in git, and a Worker deployed with
 * .dev.vars by mistake would accept deliveries signed by anyone who read it.
 */
const LOCAL_VALUES = {
  STRIPE_WEBHOOK_SECRET: () => `whsec_${randomBytes(32).toString("hex")}`,
  STRIPE_MODE: () => "test",
};

/**
 * A value that holds no real setting: the example's `replace-with-…` placeholders, and the fixed
 * secret that earlier versions of .dev.vars.example shipped (public, so no secret).
 */
const isPlaceholder = (value) => value.startsWith("replace-with-") || value === "whsec_local_development_secret_change_me";

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

/**
 * Replaces each placeholder of .dev.vars (see LOCAL_VALUES) with its local value: a random signing
 * secret, test mode. STRIPE_MODE is added when absent too (a .dev.vars from before it existed: local
 * development is test mode); any other absent entry, or one set to anything else, is left as it is.
 * Returns the names written.
 */
export function fillDevVarPlaceholders() {
  const filled = [];
  for (const [name, localValue] of Object.entries(LOCAL_VALUES)) {
    const value = readDevVar(name);
    const missing = value === undefined ? name === "STRIPE_MODE" : isPlaceholder(value);
    if (!missing) continue;
    writeDevVar(name, localValue());
    filled.push(name);
  }
  return filled;
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
