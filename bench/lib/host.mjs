// Child process that runs one Worker in Miniflare (workerd) and answers the parent over IPC.
// Keeping Miniflare's own Node side (its loopback server, the parsing of the Worker's log lines)
// out of the load generator's process keeps it from skewing the latencies the parent measures.
//
//   fork("bench/lib/host.mjs", [JSON.stringify({ modules: [entry, ...imports], modulesRoot, port, consumers })])
//
// Messages from the parent: { id, op: "sql", sql } → { id, rows, meta }; { id, op: "scheduled" }
// → { id, outcome } (one run of the Worker's cron handler, as Cloudflare fires it); { id, op: "r2" }
// → { id, objects, bytes } (what the ARCHIVE bucket holds under the archive's prefix); { id, op: "stop" }.
// First message to the parent: { ready: true, url, workerdPid } (or { error }).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { convertV4MiniflareOptions, Log, LogLevel, Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { findWorkerdPid } from "./cpu.mjs";
import { BENCH_SECRET } from "./deliveries.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;
const opts = JSON.parse(process.argv[2]);

try {
  // Bindings, queues and compatibility settings come from wrangler.toml, as deployed.
  const { workerOptions: fromConfig } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"));
  // Miniflare 5 (what wrangler 4.155 installs) still takes the familiar v4 option shape through its
  // own converter, which also keeps the dev registry off.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: opts.port,
      // The lightest local workerd: no inspector, no dev registry, no request logging, no live reload.
      enableDevRegistry: false,
      logRequests: false,
      telemetry: { enabled: false },
      cf: false, // a placeholder Request.cf: offline, no fetch to workers.cloudflare.com
      // Only the profiling run opens the inspector: it slows the runtime down.
      ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
      log: new Log(LogLevel.WARN),
      // The Worker's own log lines are produced (that work stays in the measured CPU) but not printed.
      handleStructuredLogs: () => {},
      workers: [workerOptions(fromConfig)],
    }),
  );
  const url = await mf.ready;
  const db = await mf.getD1Database("DB");
  await applyMigrations(db);
  process.send({ ready: true, url: url.href, workerdPid: findWorkerdPid(process.pid) });

  process.on("message", async (msg) => {
    try {
      if (msg.op === "sql") {
        const { results, meta } = await db.prepare(msg.sql).all();
        process.send({ id: msg.id, rows: results, meta });
      } else if (msg.op === "r2") {
        const bucket = await mf.getR2Bucket("ARCHIVE");
        let objects = 0;
        let bytes = 0;
        let cursor;
        do {
          const page = await bucket.list({ prefix: "ledger/", ...(cursor ? { cursor } : {}) });
          for (const o of page.objects) {
            objects++;
            bytes += o.size;
          }
          cursor = page.truncated ? page.cursor : undefined;
        } while (cursor);
        process.send({ id: msg.id, objects, bytes });
      } else if (msg.op === "scheduled") {
        const { outcome } = await (await mf.getWorker()).scheduled({ cron: "* * * * *" });
        process.send({ id: msg.id, outcome });
      } else if (msg.op === "stop") {
        await mf.dispose();
        process.send({ id: msg.id, stopped: true });
        process.exit(0);
      }
    } catch (err) {
      process.send({ id: msg.id, error: String(err?.stack ?? err) });
    }
  });
} catch (err) {
  process.send({ error: String(err?.stack ?? err) });
  process.exit(1);
}

function workerOptions(fromConfig) {
  return {
    name: "bench",
    // Entry module first; imports are listed explicitly (Miniflare does not follow them itself).
    modules: opts.modules.map((path) => ({ type: "ESModule", path })),
    modulesRoot: opts.modulesRoot,
    compatibilityDate: fromConfig.compatibilityDate,
    compatibilityFlags: fromConfig.compatibilityFlags,
    // The [vars] as deployed (tolerance, retention, size limit), the bench's own signing secret, and
    // the secret STRIPE_MODE every deployment sets (the bench's events are test-mode events).
    bindings: { ...fromConfig.bindings, STRIPE_WEBHOOK_SECRET: BENCH_SECRET, STRIPE_MODE: "test" },
    d1Databases: fromConfig.d1Databases,
    // The archive's bucket (ARCHIVE), simulated in memory like D1.
    r2Buckets: fromConfig.r2Buckets,
    // The Stripe API budget's Durable Object, for the targets whose bundle exports its class (this
    // Worker's: every invocation that may call Stripe asks it for its share).
    ...(opts.durableObjects ? { durableObjects: fromConfig.durableObjects } : {}),
    queueProducers: fromConfig.queueProducers,
    // Without a consumer the ack path is measured alone; the drain and soak turn the consumers on.
    queueConsumers: opts.consumers ? fromConfig.queueConsumers : {},
  };
}

/** The project's real migrations, in order, split where drizzle-kit marks statement breaks. */
async function applyMigrations(db) {
  const dir = join(ROOT, "migrations");
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const statements = readFileSync(join(dir, file), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(statements.map((s) => db.prepare(s)));
  }
}
