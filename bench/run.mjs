#!/usr/bin/env node
// `npm run bench`: this Worker (a) against a floor receiver (b), a bare HMAC verify (c) and the
// usual Express stack (d), on this machine, with one load generator; then static figures, the
// ingest ramp, operation counts by statement (retention included), the drain, bytes stored per
// event, how long one database lasts, and the cost. Prints as it goes and writes bench/RESULTS.md.
//
//   npm run bench                      full run (a few minutes on 2 cores)
//   BENCH_SCALE=0.2 npm run bench      smaller runs (and ramp steps), for trying it out
//   BENCH_DRAIN=2000 npm run bench     events in the drain (default 10000)
//   BENCH_OUT=/tmp/r.md npm run bench  write the results elsewhere
//   BENCH_PROFILE=0 npm run bench      skip the profile
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { daysUntilFull, eventsPerMonthHeld } from "./lib/capacity.mjs";
import { archiveStoragePerMillionPerMonth, costPerMillionEvents } from "./lib/cost.mjs";
import { measureDrain } from "./lib/drain.mjs";
import { fmt, measureServer } from "./lib/measure.mjs";
import { countOperations, wholeLife, wholeLifeWithRetention } from "./lib/ops.mjs";
import { profileWorker } from "./lib/profile.mjs";
import { measureRamp } from "./lib/ramp.mjs";
import { RATE_HEADING, sectionOf, withSection } from "./lib/rate-report.mjs";
import { renderResults } from "./lib/report.mjs";
import { machineAndVersions, measureStartup } from "./lib/static-figures.mjs";
import { archiveBytes, bytesPerEvent } from "./lib/storage.mjs";
import { buildBundle, startExpress, startWorker, workerTargets } from "./lib/targets.mjs";

// Ports: 8800–8808 for the servers under test (the profile's inspector takes 8807; Miniflare's own
// loopback server takes an OS-assigned port).
const PORT = { a: 8800, b: 8801, c: 8802, d: 8803, counting: 8804, drain: 8805, profile: 8806, ramp: 8808, ledger: 8809 };
const scale = Number(process.env.BENCH_SCALE ?? 1);
const PLAN = [
  { concurrency: 1, count: Math.max(50, Math.round(1000 * scale)) },
  { concurrency: 16, count: Math.max(100, Math.round(2000 * scale)) },
  { concurrency: 64, count: Math.max(100, Math.round(2000 * scale)) },
];
const RAMP_PER_STEP = Math.max(200, Math.round(1500 * scale));
const DRAIN_EVENTS = Number(process.env.BENCH_DRAIN ?? 10_000);
/** Events of the drain that measures the ledger alone at its final size (ignored, compressed). */
const DRAIN_FINAL_EVENTS = Math.max(1000, Math.round(DRAIN_EVENTS / 2));
const OUT = process.env.BENCH_OUT ?? new URL("RESULTS.md", import.meta.url).pathname;
const log = (line) => console.log(line);
const started = Date.now();

const machine = machineAndVersions();
log(
  `Machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB; load ${machine.loadavg}; ` +
    `Node ${machine.node}, workerd ${machine.workerd}, wrangler ${machine.wrangler}, miniflare ${machine.miniflare}`,
);

log("Bundling src/index.ts with wrangler deploy --dry-run …");
const bundle = buildBundle();
log(`  ${bundle.uploadKiB} KiB, gzip ${bundle.gzipKiB} KiB`);
log("Startup with wrangler check startup (3 runs) …");
const startup = measureStartup(3);
log(`  active ${startup.all.join(", ")} ms → median ${startup.median.activeMs} ms`);

const workers = workerTargets(bundle.outdir);
const targets = {};
for (const key of ["a", "b", "c"]) {
  log(`${workers[key].label} …`);
  const server = await startWorker(workers[key], { port: PORT[key] });
  try {
    const { rows, idleMsPerSecond } = await measureServer(server, { tag: key, plan: PLAN, duplicates: key !== "c", log });
    targets[key] = { label: workers[key].label, rows, idleMsPerSecond };
  } finally {
    await server.stop();
  }
}
log("(d) Express + stripe.webhooks.constructEvent + node:sqlite …");
{
  const server = await startExpress({ port: PORT.d });
  try {
    const { rows, idleMsPerSecond } = await measureServer(server, { tag: "d", plan: PLAN, log });
    targets.d = { label: "(d) Express + stripe-node + node:sqlite", rows, idleMsPerSecond };
  } finally {
    await server.stop();
  }
}

// Settings as deployed: the retention the counting run ages its rows past, and the consumer's batch size.
const { workerOptions } = unstable_getMiniflareWorkerOptions(new URL("../wrangler.toml", import.meta.url).pathname);
// LEDGER_RETENTION_DAYS empty is the Worker's default: 7 days with the ARCHIVE bucket bound, 30 without.
const archiveBound = Boolean(workerOptions.r2Buckets?.ARCHIVE);
const retentionRaw = String(workerOptions.bindings.LEDGER_RETENTION_DAYS ?? "").trim();
const retentionDays = retentionRaw === "" ? (archiveBound ? 7 : 30) : Number(retentionRaw);
const batchSize = Object.entries(workerOptions.queueConsumers ?? {}).find(([name]) => !name.endsWith("-dlq"))?.[1]?.maxBatchSize ?? 10;

// The ramp: (a), whose database also gives the ledger's bytes per event, then the floor (b) for what
// one local D1 takes behind the least code a receiver can run.
const storage = {};
const ramp = {};
for (const key of ["a", "b"]) {
  log(`Ingest ramp: ${workers[key].label}, consumers off, fresh D1, ${RAMP_PER_STEP} new deliveries per step …`);
  const server = await startWorker(workers[key], { port: PORT.ramp });
  try {
    const run = () => measureRamp(server, { count: RAMP_PER_STEP, log });
    if (key === "a") ({ result: ramp.a, storage: storage.ledger } = await bytesPerEvent(server, run));
    else ramp.b = await run();
  } finally {
    await server.stop();
  }
  log(`  knee: ${fmt(ramp[key].knee.perSecond, 0)}/s at ${ramp[key].knee.concurrency} connection(s)`);
}
log(`  ledger alone: ${fmt(storage.ledger.perEvent, 0)} bytes/event`);

log("Counting D1 and Queue operations per event type (counting wrapper, consumers on), then one retention run …");
let ops;
{
  const server = await startWorker(workers.counting, { port: PORT.counting, consumers: true });
  try {
    ops = await countOperations(server, { count: 40, retentionDays });
  } finally {
    await server.stop();
  }
}
for (const type of ops.types)
  log(`  ${type}: ${fmt(wholeLife(ops.perType[type].newEvent).d1_rows_written, 1)} rows written (request + consumer)`);
log(`  retention: ${fmt(ops.retention.perPrunedRow.d1_rows_written, 1)} rows written per pruned row (${ops.retention.pruned} pruned)`);

let profile = null;
if (process.env.BENCH_PROFILE !== "0") {
  log("Profiling (a) under load through the workerd inspector …");
  try {
    profile = await profileWorker(workers.a, { port: PORT.profile, deliveries: Math.max(200, Math.round(1500 * scale)) });
    for (const g of profile.groups.slice(0, 6)) log(`  ${fmt(g.share * 100, 1).padStart(5)} %  ${g.name}`);
  } catch (err) {
    log(`  profile not available: ${err.message}`);
  }
}

log(`Drain: ${DRAIN_EVENTS} events into (a) with its queue consumers on …`);
let drain;
{
  const server = await startWorker(workers.a, { port: PORT.drain, consumers: true });
  try {
    ({ result: drain, storage: storage.drained } = await bytesPerEvent(server, () => measureDrain(server, { count: DRAIN_EVENTS, log })));
  } finally {
    await server.stop();
  }
}
log(
  `  ${drain.final}/${drain.count} final after ${fmt(drain.totalSeconds, 1)} s (${fmt(drain.drainPerSecond, 0)}/s), ` +
    `kept up ${fmt(drain.keepUp * 100, 0)} % of ingest, lost ${drain.lost}; ` +
    `ledger + projections ${fmt(storage.drained.perEvent, 0)} bytes/event`,
);

log(`Ledger at its final size: ${DRAIN_FINAL_EVENTS} events no handler wants (ignored, compressed, no billing row) …`);
{
  // The counting wrapper, so the archiving runs below are counted too (the drain's CPU is not measured here).
  const server = await startWorker(workers.counting, { port: PORT.ledger, consumers: true });
  try {
    ({ storage: storage.ledgerFinal } = await bytesPerEvent(server, () =>
      measureDrain(server, { count: DRAIN_FINAL_EVENTS, unhandled: true, log: () => {} }),
    ));
    log(`  ledger, final and compressed: ${fmt(storage.ledgerFinal.perEvent, 0)} bytes/event`);
    log(`Archive: the cron's retention moving every row to R2 (${retentionDays} days + 1 later) …`);
    storage.archive = await archiveBytes(server, retentionDays);
    log(
      `  ${storage.archive.events} events in ${storage.archive.parts} parts, ${fmt(storage.archive.perEvent, 0)} bytes/event in R2, ` +
        `catalogue ≈ ${fmt(storage.archive.indexBytesPerEvent, 1)} bytes/event in D1`,
    );
  } finally {
    await server.stop();
  }
}

// Projections: what the drained database holds per event beyond the final, compressed ledger rows.
const ledgerBytes = storage.ledgerFinal.perEvent;
const projectionBytes = Math.max(0, storage.drained.perEvent - ledgerBytes);
const growthBytes = storage.archive.indexBytesPerEvent;
const RATES = [1e6, 10e6, 30e6];
const capacity = {
  retentionDays,
  ledgerBytes,
  projectionBytes,
  growthBytes,
  ...daysUntilFull({ ledgerBytes, projectionBytes, growthBytes, retentionDays }),
  // Events a month one database holds at steady state: hot ledger only, and all in (projections counted as hot).
  held: {
    withArchive: eventsPerMonthHeld({ ledgerBytes, retentionDays }),
    withArchiveAllIn: eventsPerMonthHeld({ ledgerBytes: storage.drained.perEvent, retentionDays }),
    withoutArchive: eventsPerMonthHeld({ ledgerBytes, retentionDays: 30 }),
    before: eventsPerMonthHeld({ ledgerBytes: storage.ledger.perEvent, retentionDays: 30 }),
  },
  // Months until the database is full, at each rate: 7 days hot with the archive, 30 days without it;
  // the billing tables either left out (they grow with new objects, not events) or at their worst
  // (every event a new object).
  months: RATES.map((eventsPerMonth) => {
    const months = (args) => daysUntilFull({ ledgerBytes, eventsPerMonth, ...args }).withRetention / (365.25 / 12);
    return {
      eventsPerMonth,
      withArchive: months({ projectionBytes: 0, growthBytes, retentionDays }),
      withArchiveWorst: months({ projectionBytes, growthBytes, retentionDays }),
      withoutArchive: months({ projectionBytes: 0, retentionDays: 30 }),
      withoutArchiveWorst: months({ projectionBytes, retentionDays: 30 }),
    };
  }),
};

// An event's whole life, retention included, averaged over the mix; Queue operations are sends
// (re-sends by the cron included), deliveries and acks. Retention's share is the archive run's per
// archived row (parts of ≈ 1,700 events, as at 1.2M events a month), not the counting run's, whose
// few hundred rows make one small part that spreads a part's fixed cost over few events.
const life = wholeLifeWithRetention(ops.mix.newEvent, { perPrunedRow: storage.archive.cron });
const costInputs = {
  cpuMsPerEvent: drain.cpuMsPerEvent,
  d1RowsRead: life.d1_rows_read,
  d1RowsWritten: life.d1_rows_written,
  queueOps: life.queue_messages_sent + life.queue_messages_delivered + life.queue_acks,
  // Consumer invocations per event: at best one per full batch of the events queue (wrangler.toml).
  consumerInvocationsPerEvent: 1 / batchSize,
  // The archive's R2 operations, from the counting run's retention (per pruned row).
  r2ClassA: life.r2_class_a ?? 0,
  r2ClassB: life.r2_class_b ?? 0,
};
const cost = {
  inputs: costInputs,
  batchSize,
  result: costPerMillionEvents(costInputs),
  archivePerMillionPerMonth: archiveStoragePerMillionPerMonth(storage.archive.perEvent),
  byType: {},
};
// Each type on its own (the mix's CPU, each type's own D1 and Queue counts): what a million events of
// only that type would cost, for the types counted beside the mix.
for (const type of ops.types) {
  const own = wholeLifeWithRetention(ops.perType[type].newEvent, { perPrunedRow: storage.archive.cron });
  const inputs = {
    ...costInputs,
    d1RowsRead: own.d1_rows_read,
    d1RowsWritten: own.d1_rows_written,
    queueOps: own.queue_messages_sent + own.queue_messages_delivered + own.queue_acks,
    r2ClassA: own.r2_class_a ?? 0,
    r2ClassB: own.r2_class_b ?? 0,
  };
  cost.byType[type] = { inputs, result: costPerMillionEvents(inputs) };
}

const results = {
  date: new Date().toISOString(),
  machine,
  noiseNote:
    process.env.BENCH_NOISE_NOTE ??
    `Run took ${fmt((Date.now() - started) / 60000, 1)} min. Other processes may have shared the CPUs (see the load average): ` +
      "absolute figures are noisy; ratios from one run are the figures to read.",
  plan: PLAN,
  bundle,
  startup,
  targets,
  ops,
  ramp,
  storage,
  capacity,
  profile,
  drain,
  cost,
};
// `npm run bench:rate` writes a section of its own into this file: carry it over, not measured again.
const rateSection = existsSync(OUT) ? sectionOf(readFileSync(OUT, "utf8"), RATE_HEADING) : null;
const rendered = renderResults(results);
writeFileSync(OUT, rateSection ? withSection(rendered, RATE_HEADING, rateSection) : rendered);
rmSync(bundle.outdir, { recursive: true, force: true });
log(`\nWrote ${OUT} (${fmt((Date.now() - started) / 60000, 1)} min).`);
