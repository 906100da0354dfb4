/**
 * How long things may take before the cron steps in. Re-sending an event that is in fact moving is
 * harmless (the claim lets one consumer through), so these only bound how long a loss can last.
 */
export const LEDGER_TIMING = {
  /**
   * A new event is sent to the queue in `waitUntil` right after the 2xx, with no second D1 write.
   * If it is still `received` this long after arrival, its send is presumed lost (the isolate died
   * before it ran) and the cron sends it again. A consumer backlog shorter than this re-sends nothing.
   */
  graceMs: 5 * 60_000,
  /**
   * How long a claim holds an event: Cloudflare stops a queue consumer invocation after 15 minutes,
   * so a claim is only ever taken over from a consumer that is certainly gone.
   */
  leaseMs: 15 * 60_000,
  /**
   * The cron re-sends an unfinished event when it is `graceMs` old, then each time its age has
   * doubled (10, 20, 40 … minutes), at least every `maxRedriveIntervalMs`: a long backlog costs a
   * few copies per event, never one per cron tick.
   */
  maxRedriveIntervalMs: 6 * 60 * 60_000,
  /** Added to a failed attempt's retry delay: the queue's own redelivery should come well before. */
  failedSlackMs: 15 * 60_000,
} as const;
