// The ingest rate one local D1 sustains behind this Worker: new deliveries at a rising number of
// connections (closed loop, consumers off), throughput and latency per step, and the knee where
// adding load stops adding throughput or starts costing latency.
import { buildEvents, signDelivery } from "./deliveries.mjs";
import { runLoad } from "./load.mjs";
import { expectNew } from "./measure.mjs";

export const RAMP_STEPS = [1, 2, 4, 8, 16, 32, 64];
/** A step still holds while its p99 is at most this multiple of the p99 at one connection … */
export const KNEE_P99_FACTOR = 2;
/** … and its throughput is at least this much above the step before. */
export const KNEE_MIN_GAIN = 0.1;

/** Runs the ramp with `count` new deliveries per step after a warm-up; returns the steps and the knee. */
export async function measureRamp(server, { count, log = () => {} }) {
  const sign = (events) => events.map((e) => ({ id: e.id, ...signDelivery(e.body) }));
  await runLoad({ url: server.webhookUrl, deliveries: sign(buildEvents("rampwarm", 300)), concurrency: 16 });
  const steps = [];
  for (const concurrency of RAMP_STEPS) {
    const result = await runLoad({
      url: server.webhookUrl,
      deliveries: sign(buildEvents(`ramp${concurrency}`, count)),
      concurrency,
      check: expectNew,
    });
    steps.push({ concurrency, perSecond: result.perSecond, p50: result.p50, p99: result.p99, failures: result.failures });
    log(
      `  c=${String(concurrency).padEnd(2)} ${result.perSecond.toFixed(0).padStart(5)}/s  p50 ${result.p50.toFixed(2)} ms  p99 ` +
        `${result.p99.toFixed(2)} ms${result.failures ? `  ${result.failures} UNEXPECTED ANSWERS` : ""}`,
    );
  }
  return { count, steps, knee: findKnee(steps) };
}

/**
 * The knee: the last step before the first one whose p99 exceeds KNEE_P99_FACTOR × the p99 at one
 * connection, or whose throughput rose by less than KNEE_MIN_GAIN over the step before. Its
 * throughput is the sustained rate; `stoppedBy` says which condition ended the ramp there.
 */
export function findKnee(steps) {
  const baseP99 = steps[0].p99;
  for (let i = 1; i < steps.length; i++) {
    const step = steps[i];
    const stoppedBy =
      step.p99 > KNEE_P99_FACTOR * baseP99 ? "p99" : step.perSecond < (1 + KNEE_MIN_GAIN) * steps[i - 1].perSecond ? "throughput" : null;
    if (stoppedBy) return { ...steps[i - 1], next: step.concurrency, stoppedBy };
  }
  return { ...steps.at(-1), next: null, stoppedBy: null };
}
