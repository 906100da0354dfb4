// Runs the npm scripts the way `npm run <name>` does (same node flags, from package.json), but with
// this Node and in any directory, so a test can give a script a throwaway .dev.vars and HOME.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { ROOT } from "./worker.mjs";

const SCRIPTS = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts;

/** The argv of `npm run <name>`: its `node …` command with paths made absolute, then `args`. */
export function npmScriptArgv(name, args = []) {
  const [node, ...rest] = SCRIPTS[name].split(/\s+/);
  if (node !== "node") throw new Error(`npm run ${name} is not a node command: ${SCRIPTS[name]}`);
  return [process.execPath, [...rest.map((a) => (a.startsWith("scripts/") && !isAbsolute(a) ? join(ROOT, a) : a)), ...args]];
}

/**
 * An environment for the real Stripe CLI that touches nothing of the developer's: its own HOME (the
 * CLI keeps its config in ~/.config/stripe), no telemetry, and no STRIPE_CLI / STRIPE_API_BASE /
 * STRIPE_API_KEY from the caller unless given in `env`.
 */
export function isolatedEnv(env = {}) {
  const home = mkdtempSync(join(tmpdir(), "stripe-cli-home-"));
  mkdirSync(join(home, ".config"), { recursive: true });
  const base = { ...process.env };
  for (const name of ["STRIPE_CLI", "STRIPE_API_BASE", "STRIPE_API_KEY", "STRIPE_SECRET_KEY", "STRIPE_DEVICE_NAME", "XDG_CONFIG_HOME"])
    delete base[name];
  return { ...base, HOME: home, STRIPE_CLI_TELEMETRY_OPTOUT: "1", WRANGLER_SEND_METRICS: "false", CI: "true", ...env };
}

/**
 * Starts `npm run <name> -- args` in `cwd`; `output()` is everything it printed so far, `exited` its
 * exit code (or signal name), `waitFor(regexp)` resolves when the output matches.
 */
export function startScript(name, { args = [], cwd, env }) {
  const [command, argv] = npmScriptArgv(name, args);
  const child = spawn(command, argv, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const watchers = [];
  const onData = (d) => {
    output += d;
    for (const w of [...watchers]) {
      if (!w.re.test(output)) continue;
      watchers.splice(watchers.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout.on("data", onData);
  child.stderr.on("data", onData);
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal)));
  return {
    child,
    exited,
    output: () => output,
    waitFor: (re) => (re.test(output) ? Promise.resolve() : new Promise((resolve) => watchers.push({ re, resolve }))),
  };
}

/** Runs `npm run <name> -- args` in `cwd` to completion: { status, output }. */
export async function runScript(name, options) {
  const run = startScript(name, options);
  const status = await run.exited;
  return { status, output: run.output() };
}
