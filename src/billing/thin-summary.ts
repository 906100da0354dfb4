import type Stripe from "stripe";
import type { ThinEventNotification, ThinHandler, ThinHandlerContext } from "../handlers/registry";
import { log } from "../log";
import type { EntitlementSummary } from "./entitlement-set";
import { type BillingStep, thinOrigin } from "./sources";

/**
 * The thin `v1.entitlements.active_entitlement_summary.updated`: it names no related object, so the
 * customer is read from its snapshot twin (`GET /v2/core/events/{id}` gives `snapshot_event`,
 * `GET /v1/events/{id}` its summary), and `step` gets a summary that says `has_more` with nothing in
 * it, so that the customer's whole current set is listed from the API (through the rate budget), as
 * every thin event is applied in its current state. Without a snapshot twin there is no customer to
 * list: logged, and nothing is written.
 *
 * @example
 * handlers.onThin("v1.entitlements.active_entitlement_summary.updated", thinEntitlementSummary(applySummary));
 */
export function thinEntitlementSummary(
  step: BillingStep<EntitlementSummary>,
): ThinHandler<"v1.entitlements.active_entitlement_summary.updated"> {
  return async (notification, ctx) => {
    const customer = await summaryCustomer(notification, ctx);
    if (customer === null) {
      log("warn", "entitlement_summary_without_customer", { event_id: notification.id });
      return;
    }
    await step(
      { customer, livemode: notification.livemode, entitlements: { data: [], has_more: true } },
      thinOrigin(notification, ctx),
      ctx,
    );
  };
}

/** The customer a thin summary event is about, from its snapshot twin; null when it has none. */
async function summaryCustomer(notification: ThinEventNotification, ctx: ThinHandlerContext): Promise<string | null> {
  const full = (await notification.fetchEvent()) as { snapshot_event?: string | null };
  if (!full.snapshot_event) return null;
  const snapshot = await ctx.stripe.events.retrieve(full.snapshot_event);
  const summary = snapshot.data.object as unknown as Partial<Stripe.Entitlements.ActiveEntitlementSummary>;
  return typeof summary.customer === "string" ? summary.customer : null;
}
