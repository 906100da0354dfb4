import type { HandlerContext, TriggeringEvent } from "../handlers/registry";
import type { FulfilmentKind, FulfilmentObjects } from "./kinds";
import { once } from "./once";

/**
 * Runs the once-only effect `kind` for an object: records it in `fulfilments` and runs the hooks
 * registered for that kind, at most once per object however many events reach it, in either format
 * (the key is the object's id and the kind, never the event).
 * Returns true when this call ran it. With no hook registered for the kind there is nothing to run
 * and nothing is written (two D1 rows saved per paid object).
 */
export async function fulfilOnce<K extends FulfilmentKind>(
  kind: K,
  object: FulfilmentObjects[K] & { id?: string | null },
  event: TriggeringEvent,
  ctx: HandlerContext,
): Promise<boolean> {
  const hooks = ctx.handlers.hooksFor(kind);
  if (hooks.length === 0) return false;
  return once(ctx.db, { objectId: object.id ?? "", kind, eventId: event.id, nowMs: ctx.nowMs }, async (write) => {
    // A hook's ctx.write commits with the fulfilment's done mark, not later with the event's outcome.
    const hookCtx: HandlerContext = { ...ctx, write };
    for (const hook of hooks) await hook(object, event, hookCtx);
  });
}
