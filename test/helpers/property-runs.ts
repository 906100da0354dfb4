import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** Runs per property, from FC_RUNS on the host (vitest.config.ts). */
    fcRuns: number;
    /** Rows test/archive-scale.test.ts seeds, from ARCHIVE_SCALE_ROWS on the host (vitest.config.ts). */
    archiveScaleRows: number;
  }
}

/**
 * How many cases each property tries: 2,000 unless `FC_RUNS` says otherwise. Read through vitest's
 * `inject` because code inside workerd cannot see the host's environment variables.
 */
export function propertyRuns(): number {
  const runs = inject("fcRuns");
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`FC_RUNS must be a whole number of runs above 0, got ${String(runs)}`);
  return runs;
}

/** A per-test timeout that grows with the run count, so FC_RUNS=20000 is not cut off by vitest's 5 s default. */
export function propertyTimeout(msPerRun = 10): number {
  return 10_000 + propertyRuns() * msPerRun;
}
