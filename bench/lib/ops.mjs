// Counts what one event costs in D1 and Queue operations, by running the deployed bundle inside
// the counting wrapper (bench/workers/counting.mjs) with its queue consumers on: for each event
// type of the mix, new events one at a time until they are final, then the same events again as
// duplicates; finally one cron run after every counted row has aged past the retention.
import { BREADTH_TYPES, buildEvents, MIX_TYPES, signDelivery } from "./deliveries.mjs";
import { waitForFinal } from "./drain.mjs";
import { runLoad } from "./load.mjs";
import { classify } from "./statements.mjs";

const PHASES = ["ack", "after_ack", "consumer", "cron"];
const DAY_MS = 86_400_000;

/**
 * Per event type: { newEvent, duplicate }, each per phase { d1_statements, …, statements: { label →
 * { count, rows_read, rows_written } } } per event; `mix` is the average of the mix's types (the mix
 * sends them in equal shares; the billing-breadth types are counted beside it, not in it);
 * `retention` is the cron run that pruned the rows, per pruned row.
 */
export async function countOperations(server, { count = 40, retentionDays }) {
  const counts = async () => (await fetch(new URL("/__bench/counts", server.url))).json();
  const perType = {};
  let final;
  const types = [...MIX_TYPES, ...BREADTH_TYPES];
  for (const [i, type] of types.entries()) {
    const events = buildEvents(`ops${i}`, count, { types: [type] });
    const sign = () => events.map((e) => ({ id: e.id, ...signDelivery(e.body) }));
    const start = await counts();
    await runLoad({ url: server.webhookUrl, deliveries: sign(), concurrency: 1 });
    final = await waitForFinal(server, count * (i + 1), { timeoutMs: 60_000 });
    const afterNew = await counts();
    await runLoad({ url: server.webhookUrl, deliveries: sign(), concurrency: 1 });
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate enqueues nothing; leave room to be proven wrong
    const afterDuplicates = await counts();
    perType[type] = { newEvent: perEvent(start, afterNew, count), duplicate: perEvent(afterNew, afterDuplicates, count) };
  }
  // The mix is what earlier runs averaged: the billing-breadth types are reported beside it.
  const inMix = MIX_TYPES.map((type) => perType[type]);
  const mix = { newEvent: average(inMix.map((t) => t.newEvent)), duplicate: average(inMix.map((t) => t.duplicate)) };
  return { count, final, types, mixTypes: MIX_TYPES, perType, mix, retention: await countRetention(server, counts, retentionDays) };
}

/**
 * The Worker's clock is the isolate's Date.now, which the bench cannot move. Instead every counted
 * row is made older than the retention (seq and received_at moved back by the retention plus a day,
 * through the host's own connection to D1, which the wrapper does not count), then the Worker's
 * scheduled handler runs once, as the cron would a week later: the sweep reads the rows, and the
 * retention moves every final one but the newest (kept so that seq never goes back) to the archive's
 * R2 bucket, part by hour of arrival, and deletes them.
 */
async function countRetention(server, counts, retentionDays) {
  const shiftMs = (retentionDays + 1) * DAY_MS;
  await server.sql(`UPDATE stripe_events SET seq = seq - ${shiftMs * 1000}, received_at = received_at - ${shiftMs}`);
  const rowCount = async () => (await server.sql("SELECT count(*) AS n FROM stripe_events"))[0].n;
  const rows = await rowCount();
  const start = await counts();
  const outcome = await server.scheduled();
  const end = await counts();
  const pruned = rows - (await rowCount());
  return { rows, pruned, outcome, shiftDays: retentionDays + 1, perPrunedRow: perEvent(start, end, pruned).cron };
}

/** An event's life until it is final: the request (before the answer and in waitUntil) and the consumer. */
export function wholeLife(perEvent) {
  return sumPhases(perEvent, ["ack", "after_ack", "consumer"]);
}

/** wholeLife plus the cron run that eventually prunes the row (its delete, and its share of the run's reads). */
export function wholeLifeWithRetention(perEvent, retention) {
  return sumPhases({ ...perEvent, cron: retention.perPrunedRow }, PHASES);
}

/** The numeric counters of some phases, added up. */
export function sumPhases(perEvent, phases) {
  const out = {};
  for (const phase of phases) {
    for (const [key, value] of Object.entries(perEvent[phase])) if (key !== "statements") out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

/** What happened between two snapshots of the wrapper's totals, per event, with statements labelled. */
export function perEvent(from, to, n) {
  const out = {};
  for (const phase of PHASES) {
    out[phase] = { statements: {} };
    for (const [key, value] of Object.entries(to[phase])) {
      if (key !== "statements") out[phase][key] = (value - from[phase][key]) / n;
    }
    for (const [sql, s] of Object.entries(to[phase].statements)) {
      const before = from[phase].statements[sql] ?? { count: 0, rows_read: 0, rows_written: 0 };
      if (s.count === before.count) continue;
      const key = classify(sql);
      out[phase].statements[key] ??= { count: 0, rows_read: 0, rows_written: 0 };
      const label = out[phase].statements[key];
      for (const key of ["count", "rows_read", "rows_written"]) label[key] += (s[key] - before[key]) / n;
    }
  }
  return out;
}

/** The mean of several per-event results of the same shape. */
function average(results) {
  const out = {};
  for (const phase of PHASES) {
    out[phase] = { statements: {} };
    for (const r of results) {
      for (const [key, value] of Object.entries(r[phase])) {
        if (key !== "statements") out[phase][key] = (out[phase][key] ?? 0) + value / results.length;
      }
      for (const [label, s] of Object.entries(r[phase].statements)) {
        out[phase].statements[label] ??= { count: 0, rows_read: 0, rows_written: 0 };
        const sum = out[phase].statements[label];
        for (const key of Object.keys(sum)) sum[key] += s[key] / results.length;
      }
    }
  }
  return out;
}
