import { type SQL, sql } from "drizzle-orm";
import { conditionalInsert, type Database } from "../db/client";
import { stripeEvents } from "../db/schema";
import type { LifecycleChange, LifecycleKind } from "../handlers/hooks";

/** A lifecycle event to record when its transition happens (see `lifecycleEvent`). */
export interface LifecycleEventInput {
  /** The ledger id: one per transition, so the same transition is never recorded twice. */
  id: string | SQL;
  /** The kind, or an SQL expression choosing it at commit time (`access.granted` or `access.revoked`). */
  kind: LifecycleKind | SQL;
  account: string;
  customerId: string | null;
  objectId: string;
  triggerEventId: string;
  /** The object as the triggering event carried it, for the hook. */
  object?: unknown;
  livemode: boolean;
  nowMs: number;
}

/**
 * The conditional insert of a lifecycle event into the ledger: a row of format `lifecycle` and type
 * `lifecycle.<kind>`, inserted only `when` holds at that point of the transaction (the transition
 * happened) and only once per `id`. It starts `received` and due for the re-drive at once, so the
 * consumer sends it to the queue right after the commit (and the cron does, should the consumer stop
 * before). Its hooks then run like any event's handlers: retried, dead-lettered and replayable, their
 * `ctx.write` committing with its done mark.
 *
 * @example
 * ctx.emit(lifecycleEvent(db, { id: `lc_past_due_p_${sub.id}_${event.id}`, kind: "subscription.past_due", … }, when));
 */
export function lifecycleEvent(db: Database, e: LifecycleEventInput, when: SQL) {
  const kind = typeof e.kind === "string" ? sql`${e.kind}` : e.kind;
  const change: Omit<LifecycleChange, "kind"> = {
    account: e.account,
    customerId: e.customerId,
    objectId: e.objectId,
    triggerEventId: e.triggerEventId,
    ...(e.object === undefined ? {} : { object: e.object }),
  };
  return conditionalInsert(
    db,
    stripeEvents,
    {
      seq: sql`max(${e.nowMs * 1000}, (SELECT coalesce(max(seq), 0) + 1 FROM ${stripeEvents}))`,
      id: typeof e.id === "string" ? sql`${e.id}` : e.id,
      type: sql`'lifecycle.' || ${kind}`,
      livemode: e.livemode,
      account: e.account === "" ? null : e.account,
      created: Math.floor(e.nowMs / 1000),
      receivedAt: e.nowMs,
      redriveAt: e.nowMs,
      source: "lifecycle",
      format: "lifecycle",
      objectId: e.objectId,
      payload: sql`json_set(${JSON.stringify(change)}, '$.kind', ${kind})`,
    },
    when,
  ).onConflictDoNothing({ target: stripeEvents.id });
}
