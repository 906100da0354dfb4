import { logCheckoutSessionCompleted } from "./checkout-session-completed";
import { Handlers } from "./registry";

/** The handlers the deployed Worker runs. Add yours here (see README, "Handling events"). */
export function defaultHandlers(): Handlers {
  return new Handlers().on("checkout.session.completed", logCheckoutSessionCompleted);
}
