import type Stripe from "stripe";
import type { FulfilmentKind, FulfilmentObjects, HandlerContext } from "../handlers/registry";
import { once } from "./once";

/**
 * Runs the once-only effect `kind` for an object: records it in `fulfilments` and runs the hooks
 * registered for that kind, at most once per object however many events reach it.
 * Returns true when this call ran it.
 */
export function fulfilOnce<K extends FulfilmentKind>(kind: K, object: FulfilmentObjects[K] & { id?: string | null }, event: Stripe.Event, ctx: HandlerContext): Promise<boolean> {
  return once(ctx.db, { objectId: object.id ?? "", kind, eventId: event.id, nowMs: ctx.nowMs }, async () => {
    for (const hook of ctx.handlers.hooksFor(kind)) await hook(object, event, ctx);
  });
}
