// Cloudflare's published prices (Workers Paid, Standard usage model), marginal: past the monthly
// included amounts, without the $5 subscription. Read on 2026-11-23 from stored copies of
// developers.cloudflare.com/workers/platform/pricing/, /d1/platform/pricing/ and /queues/pricing/
// (the copies carry no date of their own: check the live pages before quoting a figure).
export const PRICES = {
  takenOn: "2026-11-23",
  sources: [
    "https://developers.cloudflare.com/workers/platform/pricing/",
    "https://developers.cloudflare.com/d1/platform/pricing/",
    "https://developers.cloudflare.com/queues/pricing/",
  ],
  workerRequestsPerMillion: 0.3, // after 10 M included / month
  cpuPerMillionMs: 0.02, // after 30 M CPU ms included / month
  d1RowsReadPerMillion: 0.001, // after 25 B included / month
  d1RowsWrittenPerMillion: 1.0, // after 50 M included / month
  queueOpsPerMillion: 0.4, // after 1 M included / month; write, read and delete each count (per 64 KB)
};

/**
 * Dollars per million events, each delivered once by Stripe, from counted operations and measured
 * CPU, over an event's whole life: `d1RowsWritten` includes the retention delete, `queueOps` every
 * send (the cron's re-sends included), delivery and ack. `consumerInvocationsPerEvent` is 1 / batch
 * size: whether a queue consumer invocation is billed as a request is not stated on the pricing
 * page, so it is counted as one (the dearer reading).
 */
export function costPerMillionEvents({ cpuMsPerEvent, d1RowsRead, d1RowsWritten, queueOps, consumerInvocationsPerEvent }) {
  const lines = {
    requests: (1 + consumerInvocationsPerEvent) * PRICES.workerRequestsPerMillion,
    cpu: cpuMsPerEvent * PRICES.cpuPerMillionMs,
    d1RowsRead: d1RowsRead * PRICES.d1RowsReadPerMillion,
    d1RowsWritten: d1RowsWritten * PRICES.d1RowsWrittenPerMillion,
    queue: queueOps * PRICES.queueOpsPerMillion,
  };
  return { lines, total: Object.values(lines).reduce((a, b) => a + b, 0) };
}
