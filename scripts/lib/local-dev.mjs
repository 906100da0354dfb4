// What `npm run dev` and `npm run dev:stripe` share: wrangler from node_modules, local migrations.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** wrangler's own entry point, run with this Node (no npx, no shell). */
export const WRANGLER = join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin", "wrangler.js");

/** The project's root, where wrangler.toml is. */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Runs the pinned wrangler to completion in the project root with stdin closed and `env`; returns
 * its output, or throws with it when wrangler fails. For the tools (bench, e2e), not for `npm run dev`.
 *
 * @example
 * const { stdout } = wranglerSync(["d1", "execute", "DB", "--local", "--command", "SELECT 1"]);
 */
export function wranglerSync(args, env = process.env) {
  const result = spawnSync(process.execPath, [WRANGLER, ...args], { cwd: ROOT, encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] });
  if (result.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${result.stdout}\n${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

/**
 * Applies the D1 migrations to the local database without the confirmation prompt (wrangler asks
 * on a terminal; stdin is closed here so it takes its non-interactive default). True on success.
 */
export function applyLocalMigrations() {
  const result = spawnSync(process.execPath, [WRANGLER, "d1", "migrations", "apply", "DB", "--local"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  return result.status === 0;
}

/** The `[dev] port` of wrangler.toml, which `wrangler dev` listens on (8787 when unset). */
export function devPort() {
  const toml = existsSync("wrangler.toml") ? readFileSync("wrangler.toml", "utf8") : "";
  const dev = toml.split(/^\[dev\]\s*$/m)[1];
  return dev?.split(/^\[/m)[0].match(/^\s*port\s*=\s*(\d+)/m)?.[1] ?? "8787";
}

/**
 * Takes `--port N` (or `--port=N`) out of the arguments: the local Worker's port, which both scripts
 * need; every other argument is left for `stripe listen`.
 */
export function takePortFlag(argv) {
  let port;
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--port") port = argv[++i];
    else if (argv[i].startsWith("--port=")) port = argv[i].slice("--port=".length);
    else rest.push(argv[i]);
  }
  if (port !== undefined && !/^\d+$/.test(port)) {
    console.error(`--port takes a port number, got "${port ?? ""}".`);
    process.exit(2);
  }
  return { port: port ?? devPort(), rest };
}

/** Takes `--thin` out of the arguments: forward thin events instead of snapshot events. */
export function takeThinFlag(argv) {
  return { thin: argv.includes("--thin"), rest: argv.filter((a) => a !== "--thin") };
}

/** Waits until `url` answers at all (any status) or `alive()` turns false; true when it answered. */
export async function answers(url, alive) {
  while (alive()) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return false;
}

/**
 * Fires the local Worker's cron (`* * * * *`) at every minute boundary, as Cloudflare does in
 * production: `wrangler dev` never fires crons by itself, and without the cron an event whose queue
 * message was lost (a restart of `wrangler dev` drops its in-memory queue) would wait for ever.
 * Returns a function that stops it.
 */
export function fireCronEveryMinute(base) {
  const url = `${base}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}`;
  let timer;
  const next = () => {
    timer = setTimeout(
      async () => {
        // A Worker that is restarting does not answer; the next minute tries again.
        await fetch(url, { signal: AbortSignal.timeout(30_000) }).catch(() => {});
        next();
      },
      60_000 - (Date.now() % 60_000),
    );
    timer.unref?.();
  };
  next();
  return () => clearTimeout(timer);
}
