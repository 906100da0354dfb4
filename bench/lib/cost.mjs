// Cloudflare's published prices (Workers Paid, Standard usage model), marginal: past the monthly
// included amounts, without the $5 subscription. Read on 2026-11-23 from stored copies of
// developers.cloudflare.com/workers/platform/pricing/, /d1/platform/pricing/ and /queues/pricing/;
// R2's on 2026-12-07 from cloudflare-docs src/content/docs/r2/pricing.mdx (commit 07ec87d), the
// source of developers.cloudflare.com/r2/pricing/ (the copies carry no date of their own: check the
// live pages before quoting a figure).
export const PRICES = {
  takenOn: "2026-11-23 (R2: 2026-12-07)",
  sources: [
    "https://developers.cloudflare.com/workers/platform/pricing/",
    "https://developers.cloudflare.com/d1/platform/pricing/",
    "https://developers.cloudflare.com/queues/pricing/",
    "https://developers.cloudflare.com/r2/pricing/",
  ],
  workerRequestsPerMillion: 0.3, // after 10 M included / month
  cpuPerMillionMs: 0.02, // after 30 M CPU ms included / month
  d1RowsReadPerMillion: 0.001, // after 25 B included / month
  d1RowsWrittenPerMillion: 1.0, // after 50 M included / month
  queueOpsPerMillion: 0.4, // after 1 M included / month; write, read and delete each count (per 64 KB)
  r2ClassAPerMillion: 4.5, // PutObject, ListObjects …; after 1 M included / month (Standard storage)
  r2ClassBPerMillion: 0.36, // GetObject, HeadObject …; after 10 M included / month; DeleteObject is free
  r2StoragePerGBMonth: 0.015, // after 10 GB-month included
};

/**
 * Dollars per million events, each delivered once by Stripe, from counted operations and measured
 * CPU, over an event's whole life: `d1RowsWritten` includes the retention delete, `queueOps` every
 * send (the cron's re-sends included), delivery and ack. `consumerInvocationsPerEvent` is 1 / batch
 * size: whether a queue consumer invocation is billed as a request is not stated on the pricing
 * page, so it is counted as one (the dearer reading).
 */
export function costPerMillionEvents({
  cpuMsPerEvent,
  d1RowsRead,
  d1RowsWritten,
  queueOps,
  consumerInvocationsPerEvent,
  r2ClassA = 0,
  r2ClassB = 0,
}) {
  const lines = {
    requests: (1 + consumerInvocationsPerEvent) * PRICES.workerRequestsPerMillion,
    cpu: cpuMsPerEvent * PRICES.cpuPerMillionMs,
    d1RowsRead: d1RowsRead * PRICES.d1RowsReadPerMillion,
    d1RowsWritten: d1RowsWritten * PRICES.d1RowsWrittenPerMillion,
    queue: queueOps * PRICES.queueOpsPerMillion,
    r2ClassA: r2ClassA * PRICES.r2ClassAPerMillion,
    r2ClassB: r2ClassB * PRICES.r2ClassBPerMillion,
  };
  return { lines, total: Object.values(lines).reduce((a, b) => a + b, 0) };
}

/**
 * What keeping a million events in the archive costs a month (R2 Standard storage), from the archive's
 * measured bytes per event: it adds up month after month for as long as the history is kept.
 *
 * @example
 * archiveStoragePerMillionPerMonth(560); // ≈ $0.0084
 */
export function archiveStoragePerMillionPerMonth(bytesPerEvent) {
  return ((bytesPerEvent * 1e6) / 1e9) * PRICES.r2StoragePerGBMonth;
}
