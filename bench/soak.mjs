#!/usr/bin/env node
// `npm run soak`: many deliveries against this Worker (bundled as deployed, in local workerd with
// its queue consumers on): 80% first deliveries, 10% duplicates, 5% forgeries, 5% stale
// timestamps, in shuffled order. The Worker's cron runs every minute, as Cloudflare would fire it
// (Miniflare never does): it re-sends whatever the queue did not deliver in time. Shows progress,
// waits until every accepted event is final, then writes the table to bench/SOAK.md. Exits 1 if
// anything was lost or answered unexpectedly.
//
//   npm run soak                         100,000 deliveries
//   SOAK_COUNT=2000 npm run soak         a quick one (also: npm run soak -- --count 2000)
//   SOAK_OUT=/tmp/soak.md npm run soak   write the table elsewhere
import { rmSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { buildEvents, signDelivery } from "./lib/deliveries.mjs";
import { statusCounts, waitForFinal } from "./lib/drain.mjs";
import { runLoad } from "./lib/load.mjs";
import { machineAndVersions } from "./lib/static-figures.mjs";
import { buildBundle, startWorker, workerTargets } from "./lib/targets.mjs";

const { values } = parseArgs({ options: { count: { type: "string" }, concurrency: { type: "string" } } });
const TOTAL = Number(values.count ?? process.env.SOAK_COUNT ?? 100_000);
const CONCURRENCY = Number(values.concurrency ?? process.env.SOAK_CONCURRENCY ?? 16);
const OUT = process.env.SOAK_OUT ?? new URL("SOAK.md", import.meta.url).pathname;
const PORT = 8820;
// Signed just before sending, chunk by chunk: a long soak outlasts the 300 s signature tolerance.
const CHUNK = 2000;

const share = { duplicate: Math.round(TOTAL * 0.1), forged: Math.round(TOTAL * 0.05), stale: Math.round(TOTAL * 0.05) };
const firstDeliveries = TOTAL - share.duplicate - share.forged - share.stale;
const tag = `soak${Date.now().toString(36)}`;
const good = buildEvents(tag, firstDeliveries);
const bad = buildEvents(`${tag}bad`, share.forged + share.stale); // ids that must never reach the ledger

// The plan: every good event once, duplicates of random good events, and the bad ones; shuffled,
// so a "duplicate" may well arrive before the first copy (the ledger must not care).
const plan = [
  ...good.map((e) => ({ event: e, kind: "first" })),
  ...Array.from({ length: share.duplicate }, () => ({ event: good[Math.floor(Math.random() * good.length)], kind: "duplicate" })),
  ...bad.slice(0, share.forged).map((e) => ({ event: e, kind: "forged" })),
  ...bad.slice(share.forged).map((e) => ({ event: e, kind: "stale" })),
];
for (let i = plan.length - 1; i > 0; i--) {
  const j = Math.floor(Math.random() * (i + 1));
  [plan[i], plan[j]] = [plan[j], plan[i]];
}

console.log(
  `Soak: ${TOTAL} deliveries (${firstDeliveries} distinct events, ${share.duplicate} duplicates, ${share.forged} forged, ` +
    `${share.stale} stale), ${CONCURRENCY} connections.`,
);
const started = Date.now();
const bundle = buildBundle();
const server = await startWorker(workerTargets(bundle.outdir).a, { port: PORT, consumers: true });
const tally = { sent: 0, accepted_new: 0, accepted_duplicate: 0, rejected: {}, unexpected: 0, unexpectedExamples: [], cronRuns: 0 };
const cron = setInterval(() => {
  server.scheduled().then(
    () => tally.cronRuns++,
    (err) => console.error(`  cron run failed: ${err.message}`),
  );
}, 60_000);
const expectedReject = { forged: "signature_invalid", stale: "timestamp_out_of_tolerance" };
let status;
try {
  for (let i = 0; i < plan.length; i += CHUNK) {
    const chunk = plan.slice(i, i + CHUNK);
    const deliveries = chunk.map((p) => ({
      ...p,
      ...signDelivery(p.event.body, { kind: p.kind === "forged" || p.kind === "stale" ? p.kind : "valid" }),
    }));
    await runLoad({
      url: server.webhookUrl,
      deliveries,
      concurrency: CONCURRENCY,
      check: (d, code, body) => {
        tally.sent++;
        if (d.kind === "first" || d.kind === "duplicate") {
          if (code === 200 && body.includes('"duplicate":false')) {
            tally.accepted_new++;
            return null;
          }
          if (code === 200 && body.includes('"duplicate":true')) {
            tally.accepted_duplicate++;
            return null;
          }
        } else if (code === 400) {
          const errorCode = JSON.parse(body).error?.code;
          tally.rejected[errorCode] = (tally.rejected[errorCode] ?? 0) + 1;
          if (errorCode === expectedReject[d.kind]) return null;
        }
        tally.unexpected++;
        if (tally.unexpectedExamples.length < 5) tally.unexpectedExamples.push(`${d.kind} ${d.event.id}: ${code} ${body.slice(0, 120)}`);
        return "unexpected";
      },
    });
    const s = (Date.now() - started) / 1000;
    const ledger = await statusCounts(server);
    console.log(
      `  ${tally.sent}/${TOTAL} sent (${(tally.sent / s).toFixed(0)}/s)  accepted ${tally.accepted_new} new + ` +
        `${tally.accepted_duplicate} dup  rejected ${Object.values(tally.rejected).reduce((a, b) => a + b, 0)}  unexpected ` +
        `${tally.unexpected}  ledger ${JSON.stringify(ledger)}`,
    );
  }
  console.log("All sent; waiting for the queue consumer to finish …");
  let lastLog = 0;
  status = await waitForFinal(server, firstDeliveries, {
    timeoutMs: Math.max(120_000, TOTAL * 5),
    onPoll: (counts, final) => {
      if (Date.now() - lastLog <= 5000) return;
      lastLog = Date.now();
      console.log(`  ${final}/${firstDeliveries} final ${JSON.stringify(counts)}`);
    },
  });
  const [{ n: badRows }] = await server.sql(`SELECT count(*) AS n FROM stripe_events WHERE id LIKE 'evt_bench_${tag}bad_%'`);
  const [{ n: goodRows }] = await server.sql(`SELECT count(*) AS n FROM stripe_events WHERE id LIKE 'evt_bench_${tag}_%'`);
  // Every claim past an event's first: a lease taken over, or a failed attempt retried.
  const [claims] = await server.sql(
    "SELECT coalesce(sum(attempts) - count(*), 0) AS extra, coalesce(max(attempts), " +
      `0) AS most FROM stripe_events WHERE id LIKE 'evt_bench_${tag}_%'`,
  );
  Object.assign(status, { badRows, goodRows, claims });
} finally {
  clearInterval(cron);
  await server.stop();
  rmSync(bundle.outdir, { recursive: true, force: true });
}

const rejected = Object.values(tally.rejected).reduce((a, b) => a + b, 0);
const processed = status.counts.processed ?? 0;
const ignored = status.counts.ignored ?? 0;
// Lost: an event Stripe was told we have (a 200) that is not final in the ledger at the end.
const lost = firstDeliveries - status.final;
const ok =
  lost === 0 &&
  tally.unexpected === 0 &&
  status.badRows === 0 &&
  tally.accepted_new === firstDeliveries &&
  status.goodRows === firstDeliveries;
const minutes = (Date.now() - started) / 60000;
const m = machineAndVersions();
const table = [
  "# Soak",
  "",
  `Written by \`npm run soak\` on ${new Date().toISOString()} (${minutes.toFixed(1)} min): ` +
    `${TOTAL.toLocaleString("en")} deliveries to this Worker, bundled as deployed, in local workerd ` +
    `(Miniflare) with its queue consumers on, ${CONCURRENCY} connections, shuffled order. ` +
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), Node ${m.node}, workerd ${m.workerd}, wrangler ${m.wrangler}.`,
  "",
  "| | count |",
  "| --- | ---: |",
  `| sent | ${tally.sent} |`,
  `| … first deliveries of distinct events | ${firstDeliveries} |`,
  `| … duplicates (re-deliveries of those events) | ${share.duplicate} |`,
  `| … forged (wrong secret) | ${share.forged} |`,
  `| … stale (signed 1 h ago) | ${share.stale} |`,
  "| accepted (200) | " +
    `${tally.accepted_new + tally.accepted_duplicate} (${tally.accepted_new} new, ${tally.accepted_duplicate} duplicate) |`,
  `| rejected (400) | ${rejected} (${Object.entries(tally.rejected)
    .map(([c, n]) => `${c} ${n}`)
    .join(", ")}) |`,
  `| unexpected answers | ${tally.unexpected}${tally.unexpectedExamples.length ? ` (e.g. ${tally.unexpectedExamples.join("; ")})` : ""} |`,
  `| processed | ${processed} |`,
  `| ignored (no handler for the type) | ${ignored} |`,
  "| other ledger statuses at the end | " +
    `${JSON.stringify(Object.fromEntries(Object.entries(status.counts).filter(([s]) => s !== "processed" && s !== "ignored")))} |`,
  `| ledger rows for forged or stale ids (must be 0) | ${status.badRows} |`,
  `| cron runs (one a minute, as Cloudflare fires them) | ${tally.cronRuns} |`,
  `| claims beyond each event's first (leases taken over, retries) | ${status.claims.extra} (most for one event: ${status.claims.most}) |`,
  `| **lost** (accepted, not final in the ledger; must be 0) | **${lost}** |`,
  "",
  ok
    ? "Result: **pass**: every distinct event was accepted as new exactly once and is final; nothing forged or stale was recorded."
    : "Result: **FAIL**: see the rows above.",
  "",
];
writeFileSync(OUT, table.join("\n"));
console.log(`\n${table.slice(4).join("\n")}\nWrote ${OUT}`);
process.exit(ok ? 0 : 1);
