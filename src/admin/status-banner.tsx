import { inArray } from "drizzle-orm";
import { BACKFILL_STATE, backfillProgress, type BackfillState } from "../backfill/state";
import { ENDPOINT_CHECK_STATE, type EndpointCheckState } from "../cron/endpoint-check";
import type { Database } from "../db/client";
import { jobState } from "../db/schema";
import { BackfillPanel } from "./backfill-panel";
import { EndpointWarning } from "./endpoint-warning";

/**
 * What the events page shows above the events about the Stripe account, from job_state in one query
 * (never the Stripe API): the last endpoint drift check's findings and the backfill panel.
 *
 * @example
 * const banner = await statusBanner(c.env, db);
 */
export async function statusBanner(env: Pick<Env, "STRIPE_SECRET_KEY">, db: Database) {
  const saved = await db.select({ key: jobState.key, value: jobState.value }).from(jobState).where(inArray(jobState.key, [BACKFILL_STATE, ENDPOINT_CHECK_STATE]));
  const value = <T,>(key: string) => {
    const row = saved.find((r) => r.key === key);
    return row ? (JSON.parse(row.value) as T) : null;
  };
  return (
    <>
      <EndpointWarning report={value<EndpointCheckState>(ENDPOINT_CHECK_STATE)?.report ?? null} />
      <BackfillPanel progress={backfillProgress(value<BackfillState>(BACKFILL_STATE))} keyConfigured={Boolean(env.STRIPE_SECRET_KEY?.trim())} />
    </>
  );
}
