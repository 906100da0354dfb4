#!/usr/bin/env node
// `npm run bench:rate`: does the shared Stripe API budget (STRIPE_API_RATE, kept by the
// StripeApiBudget Durable Object) keep a burst of thin events under Stripe's rate limit, and how long
// does the burst take to drain? For each API rate in RATE_API_RATES, on a fresh local state:
//   1. start a fake Stripe API (bench/lib/limited-stripe-api.mjs) that answers 429 to any request
//      that would make more than 25 arrive within 1000 ms (Stripe's sandbox limit), in a process of
//      its own, and records every request's arrival;
//   2. start the Worker under `wrangler dev` (local D1 migrated, local Queues, the Durable Object)
//      with its own env file: STRIPE_MODE=test, a random signing secret and admin token, any
//      STRIPE_SECRET_KEY, STRIPE_API_BASE at the fake, STRIPE_API_RATE; fire its cron every minute;
//   3. post RATE_EVENTS signed thin `v1.customer.subscription.updated` events, each about its own
//      subscription, at RATE_CONCURRENCY connections, and check every answer is a new 200;
//   4. poll GET /admin/api/stats until nothing is open (or RATE_TIMEOUT_MIN), then read the ledger
//      and wrangler dev's log (events_deferred, batch_processed lines).
// Then writes the "Stripe API rate discipline" section of bench/RESULTS.md (the rest of the file is
// left as it is) and exits 1 unless every run ended with every event `processed`, none dead, every
// delivery a 200, and the API never seeing more than 25 requests in a second.
//
//   npm run bench:rate                              STRIPE_API_RATE=20 three times, then the default: ~10 min
//   RATE_API_RATES=20 npm run bench:rate            one run; `default` leaves STRIPE_API_RATE to wrangler.toml
//   RATE_EVENTS=200 RATE_OUT=/tmp/r.md npm run bench:rate    a quick try, written elsewhere
//   RATE_KEEP=1 npm run bench:rate                  keep the temp dirs (state, wrangler dev's log, API arrivals)
//   RATE_TRACE=1 npm run bench:rate                 also log the budget's grants (bench/rate/trace-worker.ts)
//                                                   and compare them with the API's arrivals
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { fireCronEveryMinute, wranglerSync } from "../scripts/lib/local-dev.mjs";
import { stripeSignatureHeader } from "../scripts/lib/stripe-signature.mjs";
import { startLimitedStripeApi } from "./lib/limited-stripe-api.mjs";
import { runLoad } from "./lib/load.mjs";
import { fmt } from "./lib/measure.mjs";
import { RATE_HEADING, renderRateSection, withSection } from "./lib/rate-report.mjs";
import { machineAndVersions } from "./lib/static-figures.mjs";
import { WRANGLER_ENV } from "./lib/targets.mjs";
import { startWranglerDev } from "./lib/wrangler-dev.mjs";

const EVENTS = Number(process.env.RATE_EVENTS ?? 2000);
// 20 first: the setting the issue asks about (under the 25/s limit, with room for the time between
// the budget's grant and the request's arrival at the API), three times because whether the API's
// peak stays under 25 varies from run to run; then `default`, wrangler.toml's 10.
const API_RATES = (process.env.RATE_API_RATES ?? "20,20,20,default").split(",").map((r) => r.trim());
const CONCURRENCY = Number(process.env.RATE_CONCURRENCY ?? 64);
const TIMEOUT_MS = Number(process.env.RATE_TIMEOUT_MIN ?? 20) * 60_000;
const OUT = process.env.RATE_OUT ?? new URL("RESULTS.md", import.meta.url).pathname;
const KEEP = process.env.RATE_KEEP === "1";
// Runs bench/rate/trace-worker.ts instead of src/index.ts: the budget's grants are logged too.
const TRACE = process.env.RATE_TRACE === "1";
/** The fake API's limit: Stripe's documented sandbox rate (live mode allows 100). */
const API_LIMIT = 25;
const PORT = { http: 8840, inspector: 8841 };
const THIN_TYPE = "v1.customer.subscription.updated";
const ROOT = new URL("../", import.meta.url).pathname;
const FIXTURES = new URL("../test/fixtures/", import.meta.url);

const log = (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const rate of API_RATES) {
  if (rate !== "default" && !(Number(rate) >= 1)) {
    console.error(`RATE_API_RATES takes numbers or "default", got "${rate}".`);
    process.exit(2);
  }
}

// Everything a run starts is undone through this list, last first: on success, on an error, and on
// Ctrl-C or SIGTERM (wrangler dev runs in a process group of its own, which a terminal's Ctrl-C
// does not reach, so it would otherwise outlive us).
const cleanups = [];
async function cleanUp() {
  while (cleanups.length > 0) {
    try {
      await cleanups.pop()();
    } catch (err) {
      console.error(`cleanup: ${err.message}`);
    }
  }
}
// `on`, not `once`: wrangler's module (imported for its config reader) registers signal-exit, which
// re-raises the signal, ending us mid-cleanup, when it finds itself the only listener left.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping …`);
    await cleanUp();
    process.exit(130);
  });
}

/**
 * `fn` made safe to call twice: by the run itself, and again by cleanUp (or a signal arriving while
 * the first call still runs), which then waits for that same first call.
 */
function once(fn) {
  let running;
  return () => (running ??= Promise.resolve().then(fn));
}

function killGroup(pgid) {
  try {
    process.kill(-pgid, "SIGKILL");
  } catch {
    // already gone
  }
}

const started = Date.now();
const machine = machineAndVersions();
const queueSettings = eventsQueueSettings();
log(
  `Machine: ${machine.nproc} CPUs (${machine.cpuModel}); load ${machine.loadavg}; Node ${machine.node}, wrangler ${machine.wrangler}; ` +
    `${EVENTS} thin events per run at ${CONCURRENCY} connections, API limit ${API_LIMIT}/s, rates ${API_RATES.join(", ")}`,
);
const runs = [];
try {
  for (const rate of API_RATES) runs.push(await runOnce(rate));
} catch (err) {
  console.error(err.stack ?? String(err));
  await cleanUp();
  process.exit(1);
}

const date = new Date().toISOString();
const section = renderRateSection({ date, machine, events: EVENTS, concurrency: CONCURRENCY, apiLimit: API_LIMIT, queueSettings, runs });
writeFileSync(OUT, withSection(existsSync(OUT) ? readFileSync(OUT, "utf8") : "", RATE_HEADING, section));
const ok = runs.every((r) => r.ok);
log(`${ok ? "Pass" : "FAIL"}: wrote the "${RATE_HEADING.slice(3)}" section of ${OUT} (${fmt((Date.now() - started) / 60_000, 1)} min).`);
process.exit(ok ? 0 : 1);

/** One run at STRIPE_API_RATE=`rate` (or wrangler.toml's value for "default"), on fresh state. */
async function runOnce(rate) {
  const label = rate === "default" ? `default (${queueSettings.defaultApiRate})` : rate;
  const apiRate = rate === "default" ? queueSettings.defaultApiRate : Number(rate);
  const dir = mkdtempSync(join(tmpdir(), "stripe-wh-rate-"));
  cleanups.push(once(() => (KEEP ? log(`Kept ${dir}`) : rmSync(dir, { recursive: true, force: true }))));
  const state = join(dir, "state");
  const logFile = join(dir, "wrangler-dev.log");
  const envFile = join(dir, "rate.env");
  log(`— STRIPE_API_RATE=${label}: state in ${dir}`);

  const api = await startLimitedStripeApi({ limit: API_LIMIT });
  const stopApi = once(() => api.stop());
  cleanups.push(stopApi);
  const secret = `whsec_rate_${randomBytes(24).toString("hex")}`;
  const adminToken = randomBytes(32).toString("hex"); // 64 characters; the Worker wants 32 or more
  wranglerSync(["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], WRANGLER_ENV);
  // Its own env file: a developer's .dev.vars (a real Stripe key, say) never reaches this run.
  const vars = {
    STRIPE_MODE: "test",
    STRIPE_WEBHOOK_SECRET: secret,
    // Any value: the fake checks none, and the Worker only needs one to build its API client.
    STRIPE_SECRET_KEY: `sk_test_rate_bench_${randomBytes(8).toString("hex")}`,
    STRIPE_API_BASE: api.base,
    ADMIN_TOKEN: adminToken,
    ...(rate === "default" ? {} : { STRIPE_API_RATE: rate }),
  };
  writeFileSync(
    envFile,
    `${Object.entries(vars)
      .map(([k, v]) => `${k}=${v}`)
      .join("\n")}\n`,
  );

  log(`Starting wrangler dev (fake Stripe API at ${api.base}) …`);
  let pgid = null;
  // Until wrangler dev is ready there is no polite stop to call: a signal then ends the group outright.
  cleanups.push(() => pgid !== null && killGroup(pgid));
  const dev = await startWranglerDev({
    entry: TRACE ? "bench/rate/trace-worker.ts" : "src/index.ts",
    dir: state,
    port: PORT.http,
    inspectorPort: PORT.inspector,
    logFile,
    envFile,
    onSpawn: (id) => (pgid = id),
  });
  const stopDev = once(async () => {
    await dev.stop();
    pgid = null;
  });
  cleanups.push(stopDev);
  // `wrangler dev` never fires crons; Cloudflare would, every minute. Deferred events whose queue
  // send was lost would wait for it.
  const stopCron = once(fireCronEveryMinute(dev.url));
  cleanups.push(stopCron);

  const tag = Date.now().toString(36);
  const deliveries = buildThinDeliveries(tag, EVENTS, secret);
  log(`Posting ${EVENTS} signed ${THIN_TYPE} thin events at ${CONCURRENCY} connections …`);
  const firstDeliveryAt = Date.now();
  const load = await runLoad({
    url: `${dev.url}/webhooks/stripe/thin`,
    deliveries,
    concurrency: CONCURRENCY,
    check: (_d, status, body) =>
      status !== 200 ? `status ${status}: ${body.slice(0, 200)}` : /"duplicate":false/.test(body) ? null : body,
  });
  log(`  ${load.statuses[200] ?? 0}/${EVENTS} answered 200 in ${fmt(load.seconds, 1)} s (${fmt(load.perSecond, 0)}/s)`);
  if (load.failures > 0) log(`  refused: ${load.errors.join(" | ")}`);

  // Poll the Worker's own counts. The admin API allows 120 requests a minute per client: one every
  // two seconds leaves room for a console someone might open meanwhile.
  const admin = { Authorization: `Bearer ${adminToken}` };
  let stats = null;
  let lastProgress = 0;
  const deadline = firstDeliveryAt + TIMEOUT_MS;
  for (;;) {
    const response = await fetch(`${dev.url}/admin/api/stats`, { headers: admin }).catch(() => null);
    if (response?.ok) stats = await response.json();
    else if (response) log(`  /admin/api/stats answered ${response.status}`);
    const open = stats ? stats.unfinished.received + stats.unfinished.processing + stats.unfinished.failed : Infinity;
    const recorded = stats ? Object.values(stats.last_24h.by_status).reduce((a, b) => a + b, 0) : 0;
    if (open === 0 && recorded >= (load.statuses[200] ?? 0)) break;
    if (Date.now() > deadline) {
      log(`  timed out after ${TIMEOUT_MS / 60_000} min`);
      break;
    }
    if (Date.now() - lastProgress >= 15_000 && stats) {
      lastProgress = Date.now();
      const seen = await api.stats();
      log(
        `  ${fmt((Date.now() - firstDeliveryAt) / 1000, 0)} s: processed ${stats.last_24h.by_status.processed}, ` +
          `open ${open} (${stats.unfinished.received} received, ${stats.unfinished.processing} processing), ` +
          `dead ${stats.unfinished.dead}; API requests ${seen.total}, peak ${seen.peak}/s, 429s ${seen.byStatus[429] ?? 0}; ` +
          `deferred so far ${sumLogCounts(logFile, "events_deferred")}`,
      );
    }
    await sleep(2000);
  }
  const endedPolling = Date.now();
  const seen = await api.stats();
  // Stop the cron and the Worker before reading its state and log: nothing changes after this.
  await stopCron();
  await stopDev();
  await stopApi();
  // Kept for a closer look at how requests bunched (arrival times in epoch ms, statuses, paths).
  if (KEEP) writeFileSync(join(dir, "api-arrivals.json"), JSON.stringify(seen.arrivals));
  const ledger = readLedger(state);
  const batches = batchLines(logFile);
  const result = summarise({
    label,
    apiRate,
    load,
    stats,
    seen,
    ledger,
    batches,
    firstDeliveryAt,
    endedPolling,
    grants: TRACE ? grantTimes(logFile) : null,
    deferred: sumLogCounts(logFile, "events_deferred"),
    failedAttempts: failedAttempts(logFile),
    redriven: sumLogCounts(logFile, "redrive"),
  });
  log(
    `  ${result.ok ? "pass" : "FAIL"}: processed ${result.statuses.processed ?? 0}/${EVENTS}, dead ${result.statuses.dead ?? 0}; ` +
      `drain ${fmt(result.drainSeconds, 1)} s; API ${seen.total} requests, peak ${seen.peak} in 1 s, ` +
      `429s ${seen.byStatus[429] ?? 0}; deferred ${result.deferred}; effective ${fmt(result.effectiveRate, 1)}/s`,
  );
  await cleanUp(); // this run's temp dir; everything else is stopped already
  return result;
}

/**
 * `count` signed thin deliveries on the envelope of the SDK's sample notification
 * (test/fixtures/thin-events), each about its own subscription, signed now as Stripe signs.
 */
function buildThinDeliveries(tag, count, secret) {
  const { related_object: _sampleRelated, ...envelope } = readJson("thin-events/notifications.json")[0];
  const headers = Object.fromEntries(
    Object.entries(readJson("delivery-headers.json")).filter(([name]) => name.toLowerCase() !== "stripe-signature"),
  );
  const created = new Date().toISOString();
  const t = Math.floor(Date.now() / 1000);
  return Array.from({ length: count }, (_, i) => {
    const subscription = `sub_rate_${tag}_${i}`;
    const body = JSON.stringify({
      ...envelope,
      id: `evt_rate_${tag}_${i}`,
      type: THIN_TYPE,
      livemode: false,
      created,
      context: null,
      related_object: { id: subscription, type: "subscription", url: `/v1/subscriptions/${subscription}` },
    });
    return { headers: { ...headers, "Stripe-Signature": stripeSignatureHeader(body, secret, t) }, body };
  });
}

/** The ledger once the Worker has stopped: rows by status, when the last one finished, the most attempts. */
function readLedger(state) {
  const { stdout } = wranglerSync(
    [
      "d1",
      "execute",
      "DB",
      "--local",
      "--persist-to",
      state,
      "--json",
      "--command",
      "SELECT status, count(*) AS n, max(processed_at) AS last_processed_at, max(attempts) AS max_attempts " +
        "FROM stripe_events GROUP BY status",
    ],
    WRANGLER_ENV,
  );
  const rows = JSON.parse(stdout)[0].results;
  return {
    statuses: Object.fromEntries(rows.map((r) => [r.status, r.n])),
    lastProcessedAt: Math.max(0, ...rows.map((r) => r.last_processed_at ?? 0)) || null,
    maxAttempts: Math.max(0, ...rows.map((r) => r.max_attempts ?? 0)),
  };
}

/** The sum of the `count` field of every `msg` log line the Worker wrote (events_deferred, redrive). */
function sumLogCounts(file, msg) {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "";
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`"msg":"${msg}"[^\\n]*?"count":(\\d+)`, "g"))) sum += Number(m[1]);
  return sum;
}

/** The budget's grant times from the trace Worker's `rate_trace_grant` lines, in order. */
function grantTimes(file) {
  const times = [...readFileSync(file, "utf8").matchAll(/"msg":"rate_trace_grant","at":(\d+)/g)].map((m) => Number(m[1]));
  return times.sort((a, b) => a - b);
}

/** The largest number of `times` (ascending, ms) within any `windowMs` ending at one of them. */
function slidingPeak(times, windowMs = 1000) {
  let peak = 0;
  for (let from = 0, i = 0; i < times.length; i++) {
    while (times[from] <= times[i] - windowMs) from++;
    peak = Math.max(peak, i - from + 1);
  }
  return peak;
}

/** The consumer's `event_failed` lines (an attempt spent, retried with backoff), counted by error class. */
function failedAttempts(file) {
  const byError = {};
  for (const m of readFileSync(file, "utf8").matchAll(/"msg":"event_failed"[^\n]*?"error":"([^"]+)"/g))
    byError[m[1]] = (byError[m[1]] ?? 0) + 1;
  return byError;
}

/** The consumer's `batch_processed` lines: one per invocation that claimed something or skipped. */
function batchLines(file) {
  const lines = readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.includes('"msg":"batch_processed"'))
    // A line may be wrapped in wrangler's colour codes: the JSON is from the first { to the last }.
    .map((l) => JSON.parse(l.slice(l.indexOf("{"), l.lastIndexOf("}") + 1)));
  return {
    count: lines.length,
    messages: lines.reduce((a, l) => a + l.messages, 0),
    deferred: lines.reduce((a, l) => a + l.deferred, 0),
    failed: lines.reduce((a, l) => a + l.failed, 0),
    maxDurationMs: Math.max(0, ...lines.map((l) => l.duration_ms)),
    withDeferrals: lines.filter((l) => l.deferred > 0).length,
  };
}

function summarise(args) {
  const { label, apiRate, load, stats, seen, ledger, batches, grants, firstDeliveryAt, endedPolling, deferred, failedAttempts, redriven } =
    args;
  const statuses = ledger.statuses;
  const lastAt = ledger.lastProcessedAt;
  const drainSeconds = (statuses.processed ?? 0) === EVENTS && lastAt ? (lastAt - firstDeliveryAt) / 1000 : null;
  const arrivals = seen.arrivals.map((a) => a.at);
  // Whole seconds from the first API request to the last: how steadily the budget was used, and the
  // seconds in which nothing was asked of the API at all (a deferral's wait, a batch's claim).
  const perSecond = [];
  if (arrivals.length > 0) {
    for (const at of arrivals) {
      const i = Math.floor((at - arrivals[0]) / 1000);
      perSecond[i] = (perSecond[i] ?? 0) + 1;
    }
  }
  const buckets = Array.from(perSecond, (n) => n ?? 0);
  const busy = buckets.filter((n) => n > 0).sort((a, b) => a - b);
  const ok = load.failures === 0 && (statuses.processed ?? 0) === EVENTS && !statuses.dead && seen.peak <= API_LIMIT;
  return {
    label,
    apiRate,
    ok,
    load: { ok: load.statuses[200] ?? 0, failures: load.failures, errors: load.errors, seconds: load.seconds, perSecond: load.perSecond },
    statuses,
    stats: stats?.last_24h.by_status ?? null,
    drainSeconds,
    timedOut: drainSeconds === null,
    polledSeconds: (endedPolling - firstDeliveryAt) / 1000,
    api: {
      total: seen.total,
      byRoute: seen.byRoute,
      byStatus: seen.byStatus,
      peak: seen.peak,
      peakAfterSeconds: seen.peakAtMs === null ? null : (seen.peakAtMs - firstDeliveryAt) / 1000,
      firstAfterSeconds: arrivals.length > 0 ? (arrivals[0] - firstDeliveryAt) / 1000 : null,
      spanSeconds: arrivals.length > 1 ? (arrivals.at(-1) - arrivals[0]) / 1000 : 0,
      idleSeconds: buckets.filter((n) => n === 0).length,
      busyMedian: busy.length > 0 ? busy[Math.floor(busy.length / 2)] : 0,
      busyMax: busy.at(-1) ?? 0,
      repeatedOk: repeatedOk(seen.arrivals),
    },
    effectiveRate: drainSeconds ? seen.total / drainSeconds : null,
    // The k-th grant against the k-th arrival: requests leave in grant order give or take a few ms,
    // so this pairs each request with its own grant closely enough for the delay's spread.
    trace: grants && {
      grants: grants.length,
      peakGrants: slidingPeak(grants),
      delays: grants.length === arrivals.length ? spread(arrivals.map((at, k) => at - grants[k])) : null,
    },
    deferred,
    failedAttempts,
    redriven,
    batches,
    maxAttempts: ledger.maxAttempts,
  };
}

/** How many subscriptions the API answered 200 more than once: each time but the last, an answer the Worker did not keep. */
function repeatedOk(arrivals) {
  const okByPath = new Map();
  for (const { path, status } of arrivals) {
    // Only the events' own fetches: the cron's list calls may rightly repeat.
    if (status === 200 && path.startsWith("/v1/subscriptions/")) okByPath.set(path, (okByPath.get(path) ?? 0) + 1);
  }
  return [...okByPath.values()].filter((n) => n > 1).length;
}

/** Median, min and max of `values`. */
function spread(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], min: sorted[0], max: sorted.at(-1) };
}

/** The events queue's consumer settings and the API rate wrangler.toml gives, as the run uses them. */
function eventsQueueSettings() {
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"));
  const [, consumer] = Object.entries(workerOptions.queueConsumers ?? {}).find(([name]) => !name.endsWith("-dlq")) ?? [];
  return {
    maxBatchSize: consumer?.maxBatchSize,
    maxBatchTimeout: consumer?.maxBatchTimeout,
    maxRetries: consumer?.maxRetries,
    defaultApiRate: Number(workerOptions.bindings.STRIPE_API_RATE),
  };
}

function readJson(path) {
  return JSON.parse(readFileSync(new URL(path, FIXTURES), "utf8"));
}
