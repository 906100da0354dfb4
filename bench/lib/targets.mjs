// Builds and starts the receivers under test. (a)–(c) run in Miniflare (workerd) in a child
// process (host.mjs); (d) runs as a plain Node child process.
import { fork } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WRANGLER, wranglerSync } from "../../scripts/lib/local-dev.mjs";
import { BENCH_SECRET } from "./deliveries.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const WORKERS = join(ROOT, "bench", "workers");

/** The project's pinned wrangler CLI. */
export { WRANGLER };
/** Offline: no usage metrics, and no download of Cloudflare's `request.cf` data for local runs. */
export const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" };

/** Runs wrangler (the project's pinned copy) offline; returns its combined output. */
export function wrangler(args) {
  const { stdout, stderr } = wranglerSync(args, WRANGLER_ENV);
  return `${stdout}\n${stderr}`;
}

/**
 * Bundles src/index.ts exactly as `wrangler deploy` would (`--dry-run --outdir`), into a fresh temp
 * directory. Returns the directory and wrangler's own "Total Upload … / gzip: …" line.
 */
export function buildBundle() {
  const outdir = mkdtempSync(join(tmpdir(), "stripe-wh-bench-"));
  const output = wrangler(["deploy", "--dry-run", "--outdir", outdir]);
  const sizes = output.match(/Total Upload:\s*([\d.]+) KiB \/ gzip:\s*([\d.]+) KiB/);
  if (!sizes) throw new Error(`no size line in wrangler output:\n${output}`);
  // The counting wrapper imports ./index.js, so it lives next to the bundle.
  copyFileSync(join(WORKERS, "counting.mjs"), join(outdir, "counting.mjs"));
  return { outdir, uploadKiB: Number(sizes[1]), gzipKiB: Number(sizes[2]) };
}

/** The Miniflare module lists of each Worker target. */
export function workerTargets(bundleDir) {
  return {
    a: { label: "(a) this Worker", modulesRoot: bundleDir, modules: [join(bundleDir, "index.js")], durableObjects: true },
    b: { label: "(b) floor receiver", modulesRoot: WORKERS, modules: [join(WORKERS, "floor.mjs"), join(WORKERS, "hmac.mjs")] },
    c: { label: "(c) bare HMAC", modulesRoot: WORKERS, modules: [join(WORKERS, "bare.mjs"), join(WORKERS, "hmac.mjs")] },
    counting: {
      label: "(a) with counting wrapper",
      modulesRoot: bundleDir,
      modules: [join(bundleDir, "counting.mjs"), join(bundleDir, "index.js")],
      durableObjects: true,
    },
  };
}

/**
 * Starts a Worker target in its own workerd. Resolves to { url, webhookUrl, pid (of workerd),
 * sql(query) → rows, sizeBytes(), scheduled(), stop() }. `consumers` turns on the queue consumers
 * from wrangler.toml (off: the ack path is measured alone).
 */
export async function startWorker(target, { port, consumers = false, inspectorPort }) {
  const child = fork(join(ROOT, "bench", "lib", "host.mjs"), [JSON.stringify({ ...target, port, consumers, inspectorPort })], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const first = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`Miniflare host exited with ${code} before it was ready`)));
  });
  if (first.error) throw new Error(first.error);
  let nextId = 1;
  const pending = new Map();
  child.on("message", (msg) => {
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.error) p.reject(new Error(msg.error));
    else p.resolve(msg);
  });
  const call = (op, extra = {}) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, op, ...extra });
    });
  return {
    url: first.url,
    webhookUrl: new URL("/webhooks/stripe", first.url).href,
    pid: first.workerdPid,
    sql: async (sql) => (await call("sql", { sql })).rows,
    /** The database's size as D1 itself reports it with every result (`meta.size_after`, bytes). */
    sizeBytes: async () => (await call("sql", { sql: "SELECT 1" })).meta.size_after,
    /** What the archive's R2 bucket holds: { objects, bytes }. */
    r2Stats: async () => {
      const { objects, bytes } = await call("r2");
      return { objects, bytes };
    },
    /** Runs the Worker's `scheduled` handler once, as the every-minute cron would. */
    scheduled: async () => (await call("scheduled")).outcome,
    stop: async () => {
      await call("stop").catch(() => {});
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
    },
  };
}

/** Starts (d), Express + stripe-node + node:sqlite, as a child process. Resolves to { webhookUrl, pid, stop() }. */
export async function startExpress({ port }) {
  const dbDir = mkdtempSync(join(tmpdir(), "stripe-wh-bench-express-"));
  const child = fork(join(ROOT, "bench", "node", "express-receiver.mjs"), [], {
    env: { ...process.env, BENCH_PORT: String(port), BENCH_DB: join(dbDir, "events.sqlite"), BENCH_SECRET, NODE_NO_WARNINGS: "1" },
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`Express receiver exited with ${code}`)));
  });
  return {
    webhookUrl: `http://127.0.0.1:${port}/webhooks/stripe`,
    pid: child.pid,
    stop: async () => {
      await new Promise((r) => {
        child.once("exit", r);
        child.send("stop");
      });
      rmSync(dbDir, { recursive: true, force: true });
    },
  };
}
