import { billingHandlers } from "../billing/handlers";
import { logCheckoutSessionCompleted } from "./checkout-session-completed";
import type { Handlers } from "./registry";

/**
 * The handlers the deployed Worker runs: the built-in billing handlers plus the example log line.
 * Add yours here (see README, "Handling events").
 */
export function defaultHandlers(): Handlers {
  return billingHandlers().on("checkout.session.completed", logCheckoutSessionCompleted);
}
