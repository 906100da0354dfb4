// The project under `wrangler dev`, the way a developer runs it: local D1 and Queues, state
// persisted to a directory, started as its own process group so that the crash test can kill all of
// it at once (wrangler's Node process, esbuild and workerd), as an OOM kill or a power cut would.
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BENCH_SECRET } from "./deliveries.mjs";
import { WRANGLER, WRANGLER_ENV, wrangler } from "./targets.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * A fresh local state in `dir`: the project's migrations, then `extraSql` (tables a test adds), and
 * an env file with the bench's signing secret. Passing that file to `wrangler dev --env-file` also
 * keeps a developer's own .dev.vars (their secrets, a Stripe API key) out of the run.
 */
export function prepareLocalState(dir, extraSql = []) {
  wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", dir]);
  for (const sql of extraSql) wrangler(["d1", "execute", "DB", "--local", "--persist-to", dir, "--command", sql]);
  writeFileSync(join(dir, "bench.env"), `STRIPE_WEBHOOK_SECRET=${BENCH_SECRET}\n`);
}

/**
 * Starts `wrangler dev <entry>` with the project's wrangler.toml on the state in `dir`, output
 * appended to `logFile`, and resolves once `/health` answers 200. The variables come from `envFile`
 * (default: the `bench.env` of prepareLocalState). Returns { url, pgid, kill(), stop() }:
 * `kill()` sends SIGKILL to the whole process group and resolves to the processes it ended once
 * none is left; `stop()` ends it politely. If it never gets ready, the process group is killed
 * before this throws, so no workerd outlives a failed start. `onSpawn(pgid)` is called as soon as the
 * group exists, for a caller that must be able to end it from a signal handler while this still waits.
 */
export async function startWranglerDev({ entry, dir, port, inspectorPort, logFile, envFile, onSpawn, readyTimeoutMs = 120_000 }) {
  const out = openSync(logFile, "a");
  const args = [
    WRANGLER,
    "dev",
    entry,
    "--config",
    "wrangler.toml",
    "--port",
    String(port),
    "--inspector-port",
    String(inspectorPort),
    "--persist-to",
    dir,
    "--env-file",
    envFile ?? join(dir, "bench.env"),
    "--show-interactive-dev-session=false",
  ];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: WRANGLER_ENV, detached: true, stdio: ["ignore", out, out] });
  closeSync(out);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const url = `http://127.0.0.1:${port}`;
  const pgid = child.pid; // detached: the child leads a new process group
  onSpawn?.(pgid);
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      if (processGroup(pgid).length > 0) process.kill(-pgid, "SIGKILL"); // a workerd left behind
      throw new Error(`wrangler dev exited with ${child.exitCode} before it was ready: see ${logFile}`);
    }
    const status = await fetch(`${url}/health`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) break;
    if (Date.now() > deadline) {
      // wrangler may have started workerd (or esbuild) already: end the whole group, not just wrangler.
      if (processGroup(pgid).length > 0) process.kill(-pgid, "SIGKILL");
      throw new Error(`wrangler dev was not ready after ${readyTimeoutMs / 1000} s (last /health: ${status}): see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    pgid,
    async kill() {
      const members = processGroup(pgid);
      process.kill(-pgid, "SIGKILL");
      while (processGroup(pgid).length > 0) await new Promise((r) => setTimeout(r, 50));
      return members;
    },
    async stop() {
      if (processGroup(pgid).length === 0) return;
      process.kill(-pgid, "SIGTERM");
      const timer = setTimeout(() => processGroup(pgid).length > 0 && process.kill(-pgid, "SIGKILL"), 10_000);
      await exited;
      while (processGroup(pgid).length > 0) await new Promise((r) => setTimeout(r, 50));
      clearTimeout(timer);
    },
  };
}

/** Fires the Worker's cron once through Miniflare's trigger route (what `wrangler dev` serves for it). */
export async function fireCron(url) {
  const response = await fetch(`${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("* * * * *")}&format=json`);
  return (await response.json()).outcome;
}

/** The live processes of a process group, as "pid name", from /proc (Linux). */
function processGroup(pgid) {
  const members = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // After the ")" that closes the name: state, ppid, pgrp. A zombie has already ended.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(pgrp) === pgid && state !== "Z") members.push(`${entry} ${stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))}`);
    } catch {
      // The process ended while we were looking.
    }
  }
  return members;
}
