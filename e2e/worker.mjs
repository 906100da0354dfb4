// Runs the Worker for browser tests with `wrangler dev` on its own port, with a throwaway D1/Queues
// state directory and an env file in a temp dir (the developer's .dev.vars is neither read nor written).
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { WRANGLER, wranglerSync } from "../scripts/lib/local-dev.mjs";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" };

/** Runs a wrangler command to completion, throwing with its output when it fails; returns its stdout. */
export function wrangler(args) {
  return wranglerSync(args, ENV).stdout;
}

/**
 * Starts `wrangler dev` with the given variables (STRIPE_MODE=test unless given) on `port` and waits until /health answers.
 * `seed(persistDir)` runs after migrations and before the Worker starts. Returns the base URL and stop().
 */
export async function startWorker({ port, vars, seed }) {
  const dir = mkdtempSync(join(tmpdir(), "stripe-webhooks-e2e-"));
  const persist = join(dir, "state");
  const envFile = join(dir, "e2e.env");
  // Test mode, as `npm run dev` sets it, unless a test says otherwise.
  writeFileSync(
    envFile,
    `${Object.entries({ STRIPE_MODE: "test", ...vars })
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
  );
  wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", persist]);
  if (seed) await seed({ persist, dir });

  const child = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      "--port",
      String(port),
      "--ip",
      "127.0.0.1",
      "--inspector-port",
      String(port + 1),
      "--persist-to",
      persist,
      "--env-file",
      envFile,
      "--show-interactive-dev-session=false",
    ],
    { cwd: ROOT, env: ENV, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const base = `http://localhost:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${base}/health`)).status === 200) return { base, stop, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stop();
  throw new Error(`wrangler dev did not become healthy on ${base}:\n${output}`);
}
