import { and, eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { fulfilments } from "../db/billing-schema";
import type { Database } from "../db/client";
import { LEDGER_TIMING } from "../ledger/timing";

/**
 * How long a claimed effect may run before another attempt may take it over: the event's own lease
 * (the longest a consumer invocation can live), so an effect is never run by two live consumers.
 */
export const FULFILMENT_CLAIM_MS = LEDGER_TIMING.leaseMs;

/** Thrown when another consumer is running the same effect right now; the event is retried later. */
export class FulfilmentInProgress extends Error {
  override name = "FulfilmentInProgress";
}

/**
 * Runs `effect` at most once per (object id, kind), however many events, replays or redeliveries
 * reach it. D1 writes the effect passes to `write` commit in one transaction with the mark that the
 * effect is done, so an effect that only writes D1 happens exactly once even across crashes. The
 * claim is one statement; a failed effect releases its claim so a retry can run it, and a claim
 * abandoned by a crashed consumer can be taken over after FULFILMENT_CLAIM_MS.
 * Returns true when this call ran the effect, false when it had already been done.
 *
 * @example
 * const key = { account: "", objectId: session.id, kind: "checkout_session.paid", eventId: event.id, nowMs };
 * await once(db, key, () => grantAccess(session));
 */
export async function once(
  db: Database,
  key: { account: string; objectId: string; kind: string; eventId: string; nowMs: number },
  effect: (write: (query: BatchItem<"sqlite">) => void) => Promise<void>,
): Promise<boolean> {
  const claimed = await db
    .insert(fulfilments)
    .values({
      account: key.account,
      objectId: key.objectId,
      kind: key.kind,
      status: "pending",
      eventId: key.eventId,
      claimedUntil: key.nowMs + FULFILMENT_CLAIM_MS,
    })
    .onConflictDoUpdate({
      target: [fulfilments.account, fulfilments.objectId, fulfilments.kind],
      set: { eventId: key.eventId, claimedUntil: key.nowMs + FULFILMENT_CLAIM_MS },
      setWhere: sql`${fulfilments.status} = 'pending' AND ${fulfilments.claimedUntil} <= ${key.nowMs}`,
    })
    .returning({ objectId: fulfilments.objectId });

  if (claimed.length === 0) {
    const [existing] = await db
      .select({ status: fulfilments.status })
      .from(fulfilments)
      .where(and(eq(fulfilments.account, key.account), eq(fulfilments.objectId, key.objectId), eq(fulfilments.kind, key.kind)));
    if (existing?.status === "done") return false;
    throw new FulfilmentInProgress(`${key.kind} for ${key.objectId} is being fulfilled by another attempt`);
  }

  const isOurs = and(
    eq(fulfilments.account, key.account),
    eq(fulfilments.objectId, key.objectId),
    eq(fulfilments.kind, key.kind),
    eq(fulfilments.eventId, key.eventId),
    eq(fulfilments.status, "pending"),
  );
  const writes: BatchItem<"sqlite">[] = [];
  try {
    await effect((query) => void writes.push(query));
  } catch (err) {
    await db.update(fulfilments).set({ claimedUntil: 0 }).where(isOurs);
    throw err;
  }
  // The effect's own D1 writes commit with the mark that it is done: both or neither, even if the
  // consumer dies right here.
  await db.batch([db.update(fulfilments).set({ status: "done", completedAt: key.nowMs }).where(isOurs), ...writes]);
  return true;
}
