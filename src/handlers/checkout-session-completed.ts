import { log } from "../log";
import type { Handler } from "./registry";

/**
 * The example handler: logs a completed Checkout Session so the path from delivery to handler is
 * visible in `wrangler dev` and Workers Logs. Fulfilment (granting access, billing tables) is built
 * on the same registry.
 */
export const logCheckoutSessionCompleted: Handler<"checkout.session.completed"> = (session, event) => {
  log("info", "checkout_session_completed", {
    event_id: event.id,
    session_id: session.id,
    mode: session.mode,
    payment_status: session.payment_status,
  });
};
