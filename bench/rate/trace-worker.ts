// The Worker `RATE_TRACE=1 npm run bench:rate` runs: the deployed Worker, whose Stripe API budget
// also logs the time of each grant (`rate_trace_grant`), so that the bench can set what the budget
// let through in any second against what the API saw arrive. Opt-in only: a log line per grant adds
// work on the very path being measured.
import worker, { StripeApiBudget as DeployedBudget } from "../../src";
import { log } from "../../src/log";

export { BillingService } from "../../src";

export class StripeApiBudget extends DeployedBudget {
  override async take(rate: number): Promise<{ granted: boolean; waitMs: number }> {
    // Read just before the call: take() reads its own clock first thing, before anything can yield, so
    // this is the time the budget records for the grant (a clock read afterwards can be a ms later).
    const at = Date.now();
    const answer = await super.take(rate);
    // A grant is a slot `waitMs` ahead: the request is sent then.
    if (answer.granted) log("info", "rate_trace_grant", { at: at + answer.waitMs });
    return answer;
  }
}

export default worker;
