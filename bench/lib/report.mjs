// Turns the measurements into the console table and bench/RESULTS.md.
import { PRICES } from "./cost.mjs";
import { fmt } from "./measure.mjs";
import { wholeLife } from "./ops.mjs";
import { ROWS_WRITTEN_TARGET, renderCapacity, renderOps, renderRamp, renderStorage } from "./report-ledger.mjs";

// Issue 9's targets (and the bundle and startup budgets from before it), and issue 20's: D1 bytes per
// event all in, events a month one database holds with 7 hot days and the archive, and a cost per
// million no higher than before the archive ($9.612 in bench/RESULTS.md of 2026-11-29, "$9.62" in the issue).
const TARGETS = {
  startupMs: 50,
  bundleGzipKiB: 200,
  cpuRatio: 1.15,
  cpuDupRatio: 1.1,
  p99Ratio: 1.3,
  costPerMillion: 8,
  keepUp: 1,
  d1BytesAllIn: 2300,
  eventsPerMonthWithArchive: 18e6,
  costPerMillionBefore: 9.612,
};

/** Pooled CPU ms per delivery over all concurrencies of one kind (total CPU / total deliveries). */
export function pooledCpu(rows, kind) {
  const mine = rows.filter((r) => r.kind === kind);
  const deliveries = mine.reduce((n, r) => n + r.count, 0);
  return mine.reduce((n, r) => n + r.cpuMsPerDelivery * r.count, 0) / deliveries;
}
const at = (rows, kind, concurrency) => rows.find((r) => r.kind === kind && r.concurrency === concurrency);
const ratio = (x, y) => x / y;
const percent = (share) => (Number.isNaN(share) ? "n/a (the ingest was too short to sample)" : `${fmt(share * 100, 0)} %`);
const verdict = (value, limit) => (value <= limit ? "met" : "**missed**");

/** The ratios and targets of the issue, from the per-target rows. */
export function ratios(results) {
  const { a, b, c, d } = results;
  return {
    cpuNewAB: ratio(pooledCpu(a.rows, "new"), pooledCpu(b.rows, "new")),
    cpuDupAB: ratio(pooledCpu(a.rows, "duplicate"), pooledCpu(b.rows, "duplicate")),
    cpuNewAC: ratio(pooledCpu(a.rows, "new"), pooledCpu(c.rows, "new")),
    p99AB16: ratio(at(a.rows, "new", 16).p99, at(b.rows, "new", 16).p99),
    p99DupAB16: ratio(at(a.rows, "duplicate", 16).p99, at(b.rows, "duplicate", 16).p99),
    p99AC16: ratio(at(a.rows, "new", 16).p99, at(c.rows, "new", 16).p99),
    throughputAD: [1, 16, 64]
      .filter((k) => at(a.rows, "new", k) && at(d.rows, "new", k))
      .map((k) => ({ concurrency: k, ratio: ratio(at(a.rows, "new", k).perSecond, at(d.rows, "new", k).perSecond) })),
  };
}

export function renderResults(r) {
  const q = ratios(r.targets);
  const m = r.machine;
  const { ack, after_ack: afterAck } = r.ops.mix.newEvent;
  const reqD1 = ack.d1_statements + afterAck.d1_statements;
  const reqSends = ack.queue_messages_sent + afterAck.queue_messages_sent;
  const rowsWritten = wholeLife(r.ops.perType[ROWS_WRITTEN_TARGET.type].newEvent).d1_rows_written;
  const lines = [];
  const push = (...l) => lines.push(...l);
  push(
    "# Benchmark results",
    "",
    `Written by \`npm run bench\` on ${r.date}. **Local figures**: ` +
      "Worker targets run in workerd through Miniflare on this machine, with D1 and Queues simulated in the same workerd process. " +
      "They compare receivers with each other; they are not Cloudflare's production latencies.",
    "",
    `- Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB memory; load average at start ${m.loadavg}.`,
    `- Versions: Node ${m.node}, workerd ${m.workerd}, wrangler ${m.wrangler}, miniflare ${m.miniflare}; ` +
      `hono ${m.hono}, drizzle-orm ${m.drizzle}, stripe ${m.stripe}, express ${m.express}.`,
    `- ${r.noiseNote}`,
    "",
    "## How it was measured",
    "",
    "- **Targets.** (a) this Worker, bundled by `wrangler deploy --dry-run` exactly as deployed; " +
      "(b) the floor receiver (`bench/workers/floor.mjs`: WebCrypto HMAC, " +
      "one raw D1 `INSERT … ON CONFLICT DO NOTHING RETURNING` with the payload, one Queue send in `waitUntil`); " +
      "(c) bare HMAC verify and answer (`bench/workers/bare.mjs`); " +
      "(d) Express + `stripe.webhooks.constructEvent` + `node:sqlite` insert (`bench/node/express-receiver.mjs`, WAL, no queue).",
    "- **Runtime.** (a)–(c) each in their own workerd, started through Miniflare's Node API (`bench/lib/host.mjs`): " +
      "no inspector, no dev registry, no request logging, no `wrangler dev` proxy in front. " +
      "Bindings, queues and compatibility settings come from `wrangler.toml`; D1 gets the project's migrations. " +
      "The queue consumers are off while deliveries are timed (the floor has none either); the drain turns them on.",
    "- **Load.** `bench/lib/load.mjs`: N keep-alive HTTP/1.1 connections in a closed loop, plain `node:http`, " +
      "run from a different process than Miniflare's Node side. Every delivery is a distinct event, signed before the timed run. " +
      "Duplicates are the same events re-signed and sent again. " +
      "Every answer is checked (new → `duplicate:false`, duplicate → `duplicate:true`).",
    "- **CPU per delivery.** utime+stime of the serving process from `/proc/<pid>/stat` (workerd, all threads: " +
      "the Worker, local D1 and local Queues; for (d) the Node process) before and after each run, " +
      "after `waitUntil` work has settled, minus the process's idle CPU rate, divided by deliveries. Resolution 10 ms per reading.",
    `- **Sizes.** ${r.plan.map((p) => `c=${p.concurrency}: ${p.count}`).join(", ")} deliveries per kind and target, ` +
      "after a 300-delivery warm-up.",
    "",
    "## Deliveries",
    "",
    "| target | kind | connections | deliveries/s | p50 ms | p99 ms | CPU ms / delivery |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const [key, t] of Object.entries(r.targets)) {
    for (const row of t.rows) {
      push(
        `| ${t.label} | ${row.kind} | ${row.concurrency} | ${fmt(row.perSecond, 0)} | ${fmt(row.p50)} | ${fmt(row.p99)} | ` +
          `${fmt(row.cpuMsPerDelivery, 3)}${row.failures ? ` (${row.failures} unexpected answers)` : ""} |`,
      );
    }
    if (key === "c") push(`| ${t.label} | duplicate | – | same work as new (no storage) | | | |`);
  }
  push(
    "",
    "## Ratios and targets",
    "",
    "CPU ratios pool every concurrency (total CPU / total deliveries). Targets are reported, not asserted.",
    "",
    "| figure | value | target | |",
    "| --- | ---: | ---: | --- |",
    `| CPU per new delivery, (a)/(b) | ${fmt(q.cpuNewAB)}× | ≤ ${TARGETS.cpuRatio}× | ${verdict(q.cpuNewAB, TARGETS.cpuRatio)} |`,
    `| CPU per duplicate, (a)/(b) | ${fmt(q.cpuDupAB)}× | ≤ ${TARGETS.cpuDupRatio}× | ${verdict(q.cpuDupAB, TARGETS.cpuDupRatio)} |`,
    `| p99 new at 16 connections, (a)/(b) | ${fmt(q.p99AB16)}× | ≤ ${TARGETS.p99Ratio}× | ${verdict(q.p99AB16, TARGETS.p99Ratio)} |`,
    `| p99 duplicate at 16 connections, (a)/(b) | ${fmt(q.p99DupAB16)}× | – | |`,
    `| CPU per new delivery, (a)/(c) | ${fmt(q.cpuNewAC)}× | – | what storage + framework cost over a bare verify |`,
    `| p99 new at 16 connections, (a)/(c) | ${fmt(q.p99AC16)}× | – | |`,
    ...q.throughputAD.map(
      (t) =>
        `| throughput (a)/(d), new, ${t.concurrency} connection(s) | ${fmt(t.ratio)}× | – | ` +
        "(d) answers after a local SQLite insert and has no queue |",
    ),
    `| bundle, gzip | ${fmt(r.bundle.gzipKiB)} KiB (${fmt(r.bundle.uploadKiB)} KiB raw) | ≤ ${TARGETS.bundleGzipKiB} KiB | ` +
      `${verdict(r.bundle.gzipKiB, TARGETS.bundleGzipKiB)} |`,
    `| startup (\`wrangler check startup\`, "Active", median of ${r.startup.runs}: ` +
      `${r.startup.all.map((x) => fmt(x, 1)).join(", ")} ms) | ${fmt(r.startup.median.activeMs, 1)} ms | ≤ ${TARGETS.startupMs} ms | ` +
      `${verdict(r.startup.median.activeMs, TARGETS.startupMs)} |`,
    "| D1 statements per new event in the request (before the answer + waitUntil) | " +
      `${fmt(reqD1, 1)} (${fmt(ack.d1_statements, 1)} + ${fmt(afterAck.d1_statements, 1)}) | 1 | ${verdict(reqD1, 1)} |`,
    "| Queue sends per new event in the request (before the answer + waitUntil) | " +
      `${fmt(reqSends, 1)} (${fmt(ack.queue_messages_sent, 1)} + ${fmt(afterAck.queue_messages_sent, 1)}) | 1, in waitUntil | ` +
      `${reqSends === 1 && ack.queue_messages_sent === 0 ? "met" : "**missed**"} |`,
    `| D1 rows written per new event, whole life incl. consumer and projection (${ROWS_WRITTEN_TARGET.type}) | ` +
      `${fmt(rowsWritten, 1)} | ≤ ${ROWS_WRITTEN_TARGET.max} | ${verdict(rowsWritten, ROWS_WRITTEN_TARGET.max)} |`,
    `| cost per million events (whole life incl. retention) | $${fmt(r.cost.result.total)} | ≤ $${TARGETS.costPerMillion} | ` +
      `${verdict(r.cost.result.total, TARGETS.costPerMillion)} |`,
    `| drain: consumer keeps up with ingest (rate while deliveries arrived) | ${percent(r.drain.keepUp)} | ≥ ${TARGETS.keepUp * 100} % | ` +
      `${Number.isNaN(r.drain.keepUp) ? "–" : r.drain.keepUp >= TARGETS.keepUp ? "met" : "**missed**"} |`,
    `| cost per million events, against before issue 20 (bench/RESULTS.md of 2026-11-29) | $${fmt(r.cost.result.total, 3)} | ` +
      `≤ $${TARGETS.costPerMillionBefore} | ${verdict(r.cost.result.total, TARGETS.costPerMillionBefore)} |`,
    `| D1 bytes per event all in (final ledger row, indexes, billing rows; the drain's database) | ` +
      `${fmt(r.storage.drained.perEvent, 0)} | ≤ ${TARGETS.d1BytesAllIn} | ${verdict(r.storage.drained.perEvent, TARGETS.d1BytesAllIn)} |`,
    `| events a month one database holds, ${r.capacity.retentionDays} hot days + archive (all in) | ` +
      `${fmt(r.capacity.held.withArchiveAllIn / 1e6, 1)}M | ≈ ${TARGETS.eventsPerMonthWithArchive / 1e6}M | ` +
      `${r.capacity.held.withArchiveAllIn >= TARGETS.eventsPerMonthWithArchive * 0.95 ? "met" : "**missed**"} |`,
    `| growth | bounded by retention (${r.capacity.retentionDays} days): ` +
      `full after ${fmt(r.capacity.withRetention / 365.25, 1)} years at 1M events/month, ` +
      `vs ${fmt(r.capacity.retentionOff, 0)} days without | ` +
      'bounded | see "How long one database lasts" |',
    "",
  );
  push(
    ...renderOps(r.ops),
    ...renderStorage(r.storage),
    ...renderRamp(r.ramp),
    ...renderCapacity(r.capacity),
    ...renderDrain(r.drain, at(r.targets.a.rows, "new", 16)?.cpuMsPerDelivery, r.ops.mix.newEvent.consumer, r.cost.batchSize),
    ...renderCost(r.cost),
    ...renderGap(r, q),
  );
  return `${lines.join("\n")}\n`;
}

function renderDrain(d, ingestCpuAt16, consumerOps, batchSize) {
  return [
    "## Drain",
    "",
    `${d.count.toLocaleString("en")} distinct events posted to (a) at 16 connections with the queue consumers on ` +
      `(settings from wrangler.toml: batches of up to ${batchSize}), then D1 polled until every row was \`processed\` or \`ignored\`.`,
    "",
    "| figure | value |",
    "| --- | ---: |",
    `| accepted (200) | ${d.accepted} |`,
    `| ingest | ${fmt(d.ingestSeconds, 1)} s (${fmt(d.ingestPerSecond, 0)} deliveries/s while the consumer ran) |`,
    `| all final after | ${fmt(d.totalSeconds, 1)} s${d.timedOut ? " (**timed out**)" : ""} |`,
    "| **consumer keeps up with ingest**: events made final ÷ events accepted while deliveries arrived " +
      `(sampled four times a second, from 10 % of the ingest to its end) | **${percent(d.keepUp)}** |`,
    `| final when the last delivery was answered | ${d.finalAtIngestEnd} of ${d.count} ` +
      `(${fmt((d.finalAtIngestEnd / d.count) * 100, 0)} %; the queue may hold a message up to its batch timeout, ` +
      "so this can stay below 100 % even when the consumer keeps up) |",
    `| drain rate (final rows / time from first post) | ${fmt(d.drainPerSecond, 0)} events/s |`,
    "| consumer alone, after ingest ended | " +
      (d.count - d.finalAtIngestEnd >= d.count * 0.05
        ? `${fmt(d.consumerOnlyPerSecond, 0)} events/s`
        : `n/a: only ${d.count - d.finalAtIngestEnd} events were left when the ingest ended ` +
          `(the consumer ran at least as fast as the ${fmt(d.ingestPerSecond, 0)}/s ingest)`) +
      " |",
    `| final statuses | ${Object.entries(d.counts)
      .map(([s, n]) => `${s} ${n}`)
      .join(", ")} |`,
    `| **lost** (accepted, no row) | **${d.lost}** |`,
    `| not final at the end | ${d.notFinal} |`,
    `| workerd CPU per event, ingest + consume | ${fmt(d.cpuMsPerEvent, 3)} ms |`,
    `| … of which the consumer (minus (a)'s CPU per new delivery at 16 connections, ${fmt(ingestCpuAt16, 3)} ms) | ` +
      `≈ ${fmt(d.cpuMsPerEvent - ingestCpuAt16, 3)} ms |`,
    "",
    `Per event the consumer makes ${fmt(consumerOps.d1_statements, 1)} D1 statements ` +
      `in ${fmt(consumerOps.d1_round_trips, 1)} round trips ` +
      `(${consumerOps.d1_round_trips < consumerOps.d1_statements ? "batched" : "one round trip per statement: no `db.batch`"}). ` +
      'Below 100 % in the "keeps up" row, the backlog grew while deliveries arrived and the consumer caught up afterwards; ' +
      "the consumer cannot finish events faster than they arrive, so a consumer that keeps up reads about 100 %.",
    "",
  ];
}

function renderCost(c) {
  return [
    "## Cost per million events",
    "",
    "Marginal Cloudflare cost past the included monthly amounts (the $5 Workers Paid subscription not counted), " +
      "each event delivered once, from the counts above. Prices: " +
      `Workers requests $${PRICES.workerRequestsPerMillion}/M, CPU $${PRICES.cpuPerMillionMs}/M ms, ` +
      `D1 rows read $${PRICES.d1RowsReadPerMillion}/M, rows written $${PRICES.d1RowsWrittenPerMillion}/M, ` +
      `Queues $${PRICES.queueOpsPerMillion}/M operations (write + read + delete per message). ` +
      `Taken on ${PRICES.takenOn} from stored copies of ${PRICES.sources.join(", ")}: check the live pages before quoting.`,
    "",
    "D1 counts rows written per table row and per index entry it changes (the `meta.rows_written` it reports): " +
      "where they go is in the statement table above. D1 rows and Queue operations are the mix average over an event's whole life, " +
      "the retention included; Queue operations include any re-send by the cron (none in the counting run, " +
      "where no send failed and no backlog outlived the grace). Retention's share is the archive run's per archived event " +
      '(in "Bytes stored per event"): its parts of about 1,700 events are what an hour holds at about 1.2M events a month; ' +
      "the counting run's single small part (its few hundred events) spreads a part's fixed cost (its catalogue rows, its put and its " +
      "manifest's) over fewer events than any real hour.",
    "",
    "CPU is the local workerd process CPU per event (ingest + consume, from the drain), " +
      "which includes local D1 and Queue simulation that production bills to neither: an upper bound. " +
      `Queue consumer invocations are counted as requests (one per batch of ${c.batchSize}); ` +
      "the pricing page does not say either way.",
    "",
    "| line | per event | $ per million events |",
    "| --- | ---: | ---: |",
    `| Worker requests (delivery + consumer invocation share) | ${fmt(1 + c.inputs.consumerInvocationsPerEvent, 2)} | ` +
      `${fmt(c.result.lines.requests, 3)} |`,
    `| CPU ms (upper bound) | ${fmt(c.inputs.cpuMsPerEvent, 3)} | ${fmt(c.result.lines.cpu, 3)} |`,
    `| D1 rows read | ${fmt(c.inputs.d1RowsRead, 1)} | ${fmt(c.result.lines.d1RowsRead, 4)} |`,
    `| D1 rows written | ${fmt(c.inputs.d1RowsWritten, 1)} | ${fmt(c.result.lines.d1RowsWritten, 3)} |`,
    `| Queue operations | ${fmt(c.inputs.queueOps, 1)} | ${fmt(c.result.lines.queue, 3)} |`,
    `| R2 Class A (the archive's puts) | ${fmt(c.inputs.r2ClassA, 4)} | ${fmt(c.result.lines.r2ClassA, 4)} |`,
    `| R2 Class B (reads: none in retention) | ${fmt(c.inputs.r2ClassB, 4)} | ${fmt(c.result.lines.r2ClassB, 4)} |`,
    `| **total** | | **${fmt(c.result.total, 2)}** |`,
    "",
    `Keeping the history costs R2 storage on top, for as long as it is kept: $${fmt(c.archivePerMillionPerMonth, 4)} per million ` +
      `archived events per month (Standard storage, $${PRICES.r2StoragePerGBMonth}/GB-month; ` +
      `R2 prices: Class A $${PRICES.r2ClassAPerMillion}/M, Class B $${PRICES.r2ClassBPerMillion}/M, deletes free). ` +
      "A lookup of an archived event or a restore reads one part (Class B) per part it opens.",
    "",
    ...(c.byType && Object.keys(c.byType).length > 0
      ? [
          "### By event type",
          "",
          "A million events of one type only: that type's own D1 and Queue counts over its whole life (retention included), " +
            "with the mix's CPU per event. The catalogue (`product.*`, `price.*`) and the Entitlements summary are counted beside " +
            "the mix, not in it, so the mix stays comparable with earlier runs.",
          "",
          "| event type | D1 rows written | D1 rows read | Queue operations | $ per million |",
          "| --- | ---: | ---: | ---: | ---: |",
          ...Object.entries(c.byType).map(
            ([type, t]) =>
              `| ${type} | ${fmt(t.inputs.d1RowsWritten, 1)} | ${fmt(t.inputs.d1RowsRead, 1)} | ${fmt(t.inputs.queueOps, 1)} | ` +
              `${fmt(t.result.total, 2)} |`,
          ),
          "",
        ]
      : []),
    ...(c.result.total > TARGETS.costPerMillion
      ? [
          `Over the $${TARGETS.costPerMillion} target: with every other line as it is, ` +
            "D1 would have to write at most " +
            `${fmt(c.inputs.d1RowsWritten - (c.result.total - TARGETS.costPerMillion) / PRICES.d1RowsWrittenPerMillion, 1)} rows per ` +
            `event over its life (now ${fmt(c.inputs.d1RowsWritten, 1)}).`,
          "",
        ]
      : []),
  ];
}

function renderGap(r, q) {
  const a = r.targets.a.rows,
    b = r.targets.b.rows,
    c = r.targets.c.rows;
  const cpuA = pooledCpu(a, "new"),
    cpuB = pooledCpu(b, "new"),
    cpuC = pooledCpu(c, "new");
  const dupA = pooledCpu(a, "duplicate"),
    dupB = pooledCpu(b, "duplicate");
  const trips = (o) => o.d1_round_trips;
  const extraTrips = trips(r.ops.mix.newEvent.ack) + trips(r.ops.mix.newEvent.after_ack) - 1;
  const perTrip = cpuB - cpuC; // the floor's one D1 insert + one queue send, over a bare verify
  const out = [
    "## Where the time goes",
    "",
    `Layered from the measurements (pooled CPU ms per new delivery): bare verify (c) ${fmt(cpuC, 3)}; ` +
      `+ one D1 insert and one queue send = floor (b) ${fmt(cpuB, 3)} (storage ${fmt(cpuB - cpuC, 3)}); ` +
      `this Worker (a) ${fmt(cpuA, 3)}, ${fmt(cpuA - cpuB, 3)} over the floor. ` +
      `Duplicates: (a) ${fmt(dupA, 3)} vs (b) ${fmt(dupB, 3)}, ${fmt(dupA - dupB, 3)} over.`,
    "",
    extraTrips > 0
      ? `- Before and after the answer, (a) makes ${fmt(extraTrips + 1, 1)} D1 round trips per new event where the floor makes 1 ` +
        `(counted above). Locally one D1 round trip plus a queue send costs about ${fmt(perTrip, 3)} ms of workerd CPU ` +
        `(floor minus bare), so the extra ${fmt(extraTrips, 1)} round trip(s) ` +
        `can explain ${extraTrips * perTrip >= cpuA - cpuB ? "all" : `up to ${fmt(extraTrips * perTrip, 3)} ms`} of the ` +
        `${fmt(cpuA - cpuB, 3)} ms gap` +
        (extraTrips * perTrip >= cpuA - cpuB
          ? ""
          : "; the rest is the code on the path (Hono routing, the Stripe SDK's `constructEventAsync`, " +
            "Drizzle binding the prepared insert, validation, one JSON log line per delivery)") +
        "."
      : "- (a) makes the same single D1 round trip per new event as the floor, so the gap is the code on the path: " +
        "Hono routing, the Stripe SDK's `constructEventAsync`, Drizzle binding the prepared insert, " +
        "validation and one JSON log line per delivery.",
    `- Duplicates do no queue work in either receiver, so their gap (${fmt(dupA - dupB, 3)} ms) is the code itself: ` +
      "framework, SDK, ORM, validation and logging.",
  ];
  if (r.profile) {
    out.push(
      "",
      `Profile of (a) under load (${r.profile.deliveries} new deliveries at 16 connections, workerd inspector \`Profiler\`, ` +
        "self time grouped by the bundled module it falls in; the inspector slows everything, so read shares, not absolute times):",
      "",
      "| where | share of sampled CPU |",
      "| --- | ---: |",
    );
    for (const { name, share } of r.profile.groups) out.push(`| ${name} | ${fmt(share * 100, 1)} % |`);
  }
  const missed = q.cpuNewAB > TARGETS.cpuRatio || q.cpuDupAB > TARGETS.cpuDupRatio || q.p99AB16 > TARGETS.p99Ratio;
  if (missed) {
    out.push("", "What would close the gap (suggestions from this run's counts and profile; not applied by the benchmark):");
    if (extraTrips > 0) out.push(`- Take the request path back to one D1 round trip: it makes ${fmt(extraTrips + 1, 1)} (counted above).`);
    const share = (name) => r.profile?.groups.find((g) => g.name === name)?.share ?? null;
    const pct = (name) => (share(name) === null ? "" : ` (${fmt(share(name) * 100, 1)} % of the profile)`);
    const ideas = [
      [
        "package drizzle-orm",
        "- Bind a raw prepared D1 statement for the insert instead of going through Drizzle on the request " +
          `path${pct("package drizzle-orm")}; Drizzle can stay for the consumer and queries.`,
      ],
      [
        "package stripe",
        "- Verify with WebCrypto directly (`crypto.subtle.verify` on the v1 values, as the floor does) and parse the JSON once, " +
          `keeping the SDK for its \`Stripe.Event\` types${pct("package stripe")}.`,
      ],
      ["package hono", `- Route the webhook path before Hono (a plain \`fetch\` check on method and path)${pct("package hono")}.`],
    ];
    // With a profile, only what it shows among the top entries; without one, every idea.
    const shown = r.profile ? ideas.filter(([name]) => share(name) !== null) : ideas;
    shown.sort((x, y) => (share(y[0]) ?? 0) - (share(x[0]) ?? 0));
    out.push(...shown.map(([, text]) => text));
  }
  out.push("");
  return out;
}
