import { billingHandlers } from "./billing/handlers";
import { logCheckoutSessionCompleted } from "./handlers/checkout-session-completed";
import type { Handlers } from "./handlers/registry";
import { createWorker } from "./worker";

export { BillingService } from "./entrypoints/billing-service";
export { StripeApiBudget } from "./entrypoints/stripe-api-budget";

/**
 * The handlers the deployed Worker runs: the built-in billing handlers plus the example log line.
 * Add yours here (README, "Handling events"). A function, so a test can add hooks to its own copy.
 *
 * @example
 * export const defaultHandlers = () => billingHandlers().fulfil("invoice.paid", creditAccount);
 */
export function defaultHandlers(): Handlers {
  return billingHandlers().on("checkout.session.completed", logCheckoutSessionCompleted);
}

export default createWorker({ handlers: defaultHandlers() });
