import type { Deps } from "../deps";
import { ApiError } from "../errors";
import { requireStripeApi } from "../stripe/api";
import { type BackfillRunReport, runBackfill } from "./run";

/**
 * Starts or resumes the backfill and runs one bounded slice of it now, for an operator (the admin
 * API's POST and the console's button): 409 `stripe_key_missing` without a key, 500
 * `storage_unavailable` when D1 could not save its progress (nothing is lost: the page is read again).
 *
 * @example
 * const report = await startBackfill(c.var.deps);
 */
export async function startBackfill(deps: Deps): Promise<BackfillRunReport> {
  requireStripeApi(deps, "The backfill reads Stripe's list APIs");
  const report = await runBackfill(deps, { start: true });
  if (report.outcome === "storage_error") {
    throw new ApiError(
      "storage_unavailable",
      "D1 could not save the backfill's progress; nothing was lost (the page is read again next time). " +
        "Check the DB binding and that migrations are applied, then try again.",
    );
  }
  return report;
}
