// Drain: many distinct events posted to the Worker with its queue consumers on, then timed until
// every ledger row is final (`processed` or `ignored`), read straight from local D1.

import { processCpuMs } from "./cpu.mjs";
import { buildEvents, signDelivery } from "./deliveries.mjs";
import { runLoad } from "./load.mjs";

const FINAL = ["processed", "ignored"];

/** Ledger rows by status. */
export async function statusCounts(server) {
  const rows = await server.sql("SELECT status, count(*) AS n FROM stripe_events GROUP BY status");
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Polls D1 until `expected` rows are final or the time runs out; returns the last status counts. */
export async function waitForFinal(server, expected, { timeoutMs, onPoll } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const counts = await statusCounts(server);
    const final = finalOf(counts);
    onPoll?.(counts, final);
    if (final >= expected || Date.now() > deadline) return { counts, final, timedOut: final < expected };
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Posts `count` events at `concurrency`, then waits for all of them to be final. While deliveries
 * arrive, the ledger is sampled four times a second: how many rows exist (accepted) and how many
 * are final.
 */
export async function measureDrain(server, { count, concurrency = 16, timeoutMs = 300_000, log = () => {}, unhandled = false }) {
  const events = buildEvents(unhandled ? "drainx" : "drain", count, { unhandled });
  const deliveries = events.map((e) => ({ id: e.id, ...signDelivery(e.body) }));
  const cpuBefore = processCpuMs(server.pid);
  const t0 = Date.now();
  const samples = [];
  let ingesting = true;
  const sampling = (async () => {
    while (ingesting) {
      const counts = await statusCounts(server);
      samples.push({ accepted: Object.values(counts).reduce((a, b) => a + b, 0), final: finalOf(counts) });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  const ingest = await runLoad({
    url: server.webhookUrl,
    deliveries,
    concurrency,
    check: (_d, status) => (status === 200 ? null : `status ${status}`),
    onProgress: (n) => log(`  drain: posted ${n}/${count}`),
  });
  const ingestSeconds = (Date.now() - t0) / 1000;
  ingesting = false;
  await sampling;
  const atIngestEnd = await statusCounts(server);
  const finalAtIngestEnd = finalOf(atIngestEnd);
  samples.push({ accepted: Object.values(atIngestEnd).reduce((a, b) => a + b, 0), final: finalAtIngestEnd });
  let lastLog = 0;
  const result = await waitForFinal(server, count, {
    timeoutMs,
    onPoll: (counts, final) => {
      if (Date.now() - lastLog > 2000) {
        lastLog = Date.now();
        log(`  drain: ${final}/${count} final ${JSON.stringify(counts)}`);
      }
    },
  });
  const totalSeconds = (Date.now() - t0) / 1000;
  const cpuMs = processCpuMs(server.pid) - cpuBefore;
  const rows = Object.values(result.counts).reduce((a, b) => a + b, 0);
  return {
    count,
    accepted: ingest.statuses[200] ?? 0,
    ingestSeconds,
    ingestPerSecond: count / ingestSeconds,
    totalSeconds,
    drainPerSecond: result.final / totalSeconds,
    finalAtIngestEnd,
    keepUp: keepUp(samples, count),
    // The consumer alone, once no more deliveries compete with it for the CPU.
    consumerOnlyPerSecond: totalSeconds > ingestSeconds ? (result.final - finalAtIngestEnd) / (totalSeconds - ingestSeconds) : NaN,
    counts: result.counts,
    final: result.final,
    lost: (ingest.statuses[200] ?? 0) - rows, // accepted but no ledger row
    notFinal: rows - result.final,
    timedOut: result.timedOut,
    cpuMsPerEvent: cpuMs / count,
  };
}

const finalOf = (counts) => FINAL.reduce((n, s) => n + (counts[s] ?? 0), 0);

/**
 * How fast events became final while deliveries arrived, as a share of how fast they were accepted:
 * Δfinal / Δaccepted between the first sample past 10 % of the ingest and its end. Below 100 % the
 * backlog grew the whole time; at 100 % the consumer finished events as fast as they came (it cannot
 * finish them faster than they arrive, so the figure does not go much above 100 %).
 */
function keepUp(samples, count) {
  const from = samples.find((s) => s.accepted >= count * 0.1);
  const to = samples.at(-1);
  if (!from || to.accepted - from.accepted < count * 0.5) return NaN; // too short an ingest to tell
  return (to.final - from.final) / (to.accepted - from.accepted);
}
