// One target under load: new events, then the same events again as duplicates, at each
// concurrency, with the serving process's CPU read from /proc around each run.

import { processCpuMs, settledCpuMs } from "./cpu.mjs";
import { buildEvents, signDelivery } from "./deliveries.mjs";
import { runLoad } from "./load.mjs";

/** The load generator's check for a first delivery: a 200 that says it was new. */
export const expectNew = (_d, status, body) =>
  status === 200 && body.includes('"duplicate":false') ? null : `expected a new-event 200, got ${status} ${body.slice(0, 160)}`;
const expectDuplicate = (_d, status, body) =>
  status === 200 && body.includes('"duplicate":true') ? null : `expected a duplicate 200, got ${status} ${body.slice(0, 160)}`;

/** Signs every event now (not timed). Duplicates are re-signed, as Stripe re-signs each retry. */
const sign = (events) => events.map((e) => ({ id: e.id, ...signDelivery(e.body) }));

/**
 * Measures one running server ({ webhookUrl, pid }). Returns one row per (kind, concurrency) with
 * deliveries/s, p50/p99 ms and CPU ms per delivery (idle CPU of the process subtracted).
 */
export async function measureServer(server, { tag, plan, duplicates = true, log = () => {} }) {
  // Warm-up: JIT, D1 and queue set-up, connection pools. Not measured.
  const warm = buildEvents(`${tag}warm`, 300);
  await runLoad({ url: server.webhookUrl, deliveries: sign(warm), concurrency: 16 });
  if (duplicates) await runLoad({ url: server.webhookUrl, deliveries: sign(warm), concurrency: 16 });

  const idleStart = await settledCpuMs(server.pid);
  await new Promise((r) => setTimeout(r, 2000));
  const idleMsPerSecond = (processCpuMs(server.pid) - idleStart) / 2;

  const rows = [];
  for (const { concurrency, count } of plan) {
    const events = buildEvents(`${tag}c${concurrency}`, count);
    const kinds = duplicates
      ? [
          ["new", expectNew],
          ["duplicate", expectDuplicate],
        ]
      : [["new", expectNew]];
    for (const [kind, check] of kinds) {
      const deliveries = sign(events);
      const before = await settledCpuMs(server.pid);
      const result = await runLoad({ url: server.webhookUrl, deliveries, concurrency, check });
      // settledCpuMs waits for waitUntil work (the enqueue) to finish: it belongs to this run.
      const after = await settledCpuMs(server.pid);
      const cpuMs = Math.max(0, after - before - idleMsPerSecond * result.seconds);
      const row = { kind, concurrency, ...result, cpuMsPerDelivery: cpuMs / result.count };
      rows.push(row);
      log(
        `  ${kind.padEnd(9)} c=${String(concurrency).padEnd(2)} ${fmt(row.perSecond, 0).padStart(5)}/s  p50 ${fmt(row.p50)} ms  ` +
          `p99 ${fmt(row.p99)} ms  CPU ${fmt(row.cpuMsPerDelivery, 3)} ` +
          `ms/delivery${row.failures ? `  ${row.failures} UNEXPECTED ANSWERS, e.g. ${row.errors[0]}` : ""}`,
      );
    }
  }
  return { rows, idleMsPerSecond };
}

export function fmt(n, digits = 2) {
  return Number.isFinite(n) ? n.toFixed(digits) : "n/a";
}
