// Counts what one event costs in D1 and Queue operations, by running the deployed bundle inside
// the counting wrapper (bench/workers/counting.mjs) with its queue consumers on.
import { buildEvents, signDelivery } from "./deliveries.mjs";
import { runLoad } from "./load.mjs";
import { waitForFinal } from "./drain.mjs";

const PHASES = ["ack", "after_ack", "consumer"];

/** Sends `count` new events one at a time, lets them drain, then the same events as duplicates. */
export async function countOperations(server, { count = 40 } = {}) {
  const counts = async () => (await fetch(new URL("/__bench/counts", server.url))).json();
  const events = buildEvents("ops", count);
  const sign = () => events.map((e) => ({ id: e.id, ...signDelivery(e.body) }));

  const start = await counts();
  await runLoad({ url: server.webhookUrl, deliveries: sign(), concurrency: 1 });
  const final = await waitForFinal(server, count, { timeoutMs: 60_000 });
  const afterNew = await counts();
  await runLoad({ url: server.webhookUrl, deliveries: sign(), concurrency: 1 });
  await new Promise((r) => setTimeout(r, 1500)); // a duplicate enqueues nothing; leave room to be proven wrong
  const afterDuplicates = await counts();

  return { count, final, perNewEvent: perEvent(start, afterNew, count), perDuplicate: perEvent(afterNew, afterDuplicates, count) };
}

function perEvent(from, to, count) {
  const out = {};
  for (const phase of PHASES) {
    out[phase] = {};
    for (const key of Object.keys(to[phase])) out[phase][key] = (to[phase][key] - from[phase][key]) / count;
  }
  return out;
}
