import type { BackfillProgress } from "../../backfill/state";
import type { EndpointReport } from "../../endpoint-check/report";
import { BackfillPanel } from "./backfill-panel";
import { EndpointWarning } from "./endpoint-warning";

/**
 * What the events page shows above the events about the Stripe account, from what the cron and the
 * backfill saved in job_state (never the Stripe API): the last endpoint drift check's findings and the
 * backfill panel.
 *
 * @example
 * <StatusBanner endpoint={saved?.report ?? null} backfill={backfillProgress(state)} keyConfigured={true} />
 */
export function StatusBanner(props: { endpoint: EndpointReport | null; backfill: BackfillProgress; keyConfigured: boolean }) {
  return (
    <>
      <EndpointWarning report={props.endpoint} />
      <BackfillPanel progress={props.backfill} keyConfigured={props.keyConfigured} />
    </>
  );
}
