import { and, eq, inArray, isNotNull, lte, or, type SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { alias } from "drizzle-orm/sqlite-core";
import type { EventFormat } from "../../ledger/event";
import { CLAIMABLE_STATUSES, FINAL_STATUSES, type FinalStatus, OPEN_STATUSES } from "../../ledger/status";
import { LEDGER_TIMING } from "../../ledger/timing";
import { batchAll, chunk, type Database, IDS_PER_STATEMENT } from "../client";
import { stripeEvents } from "../schema";
import { countMove, whenStatus } from "./hours";
import { decodePayload, type PayloadEncoding } from "./payload";

// The moves the queue consumers make: claim, finish, fail, park (events queue) and dead (its
// dead-letter queue). Every one is conditional on the status it moves from, so a late or repeated
// message changes nothing, and each is preceded in its batch by the `countMove` that keeps the
// charts' hourly counters (src/db/ledger/hours.ts), with the same WHERE.

type Write = BatchItem<"sqlite">;

/** An event as the consumer claimed it: what running its handlers needs. */
export interface ClaimedEvent {
  id: string;
  type: string;
  format: EventFormat;
  /** Unix seconds. */
  created: number;
  livemode: boolean;
  /** The connected account (`acct_…`), null for the platform's own events. */
  account: string | null;
  /** A thin event's `context` as sent (`acct_…`, or `acct_…/acct_…` for a nested account). */
  context: string | null;
  /** A thin event's snapshot twin (`snapshot_event`), when Stripe gave one. */
  twinOf: string | null;
  payload: string;
  /** Attempts including this one. */
  attempts: number;
}

/**
 * The statements that take events for processing: one conditional UPDATE per chunk of ids, matching
 * only events waiting to be processed (`received`, `failed`) or held under a lease that has run out,
 * and returning nothing for the rest (already final, dead, held by a live consumer, unknown), each
 * after the count of the failed events it takes. Returned unrun so the consumer sends a batch's worth
 * in one `db.batch` round trip; `read` takes the claimed events from that batch's results, their
 * payloads decoded (an event claimed again after a replay of a final event has a compressed one).
 *
 * @example
 * const claims = claimEvents(db, ids, Date.now());
 * const claimed = await claims.read(await batchAll(db, claims.statements));
 */
export function claimEvents(db: Database, ids: readonly string[], nowMs: number) {
  const statements: Write[] = [];
  const claimAt: number[] = [];
  for (const part of chunk(ids, IDS_PER_STATEMENT - 3)) {
    statements.push(
      countMove(db, and(inArray(stripeEvents.id, part), eq(stripeEvents.status, "failed")), { counts: { failed: sql`-1` } }, nowMs),
    );
    claimAt.push(statements.length);
    statements.push(claimStatement(db, part, nowMs));
  }
  // A damaged payload (never written so) reads as empty: its event fails on its own, not the batch's claim.
  const read = async (results: readonly unknown[]): Promise<ClaimedEvent[]> => {
    const rows = claimAt.flatMap((i) => results[i] as Awaited<ReturnType<typeof claimStatement>>);
    return Promise.all(
      rows.map(async ({ payloadEncoding, ...row }) => ({
        ...row,
        payload: await decodePayload(row.payload, payloadEncoding).catch(() => ""),
      })),
    );
  };
  return { statements, read };
}

function claimStatement(db: Database, ids: readonly string[], nowMs: number) {
  return db
    .update(stripeEvents)
    .set({ status: "processing", attempts: sql`${stripeEvents.attempts} + 1`, leaseUntil: nowMs + LEDGER_TIMING.leaseMs })
    .where(
      and(
        inArray(stripeEvents.id, ids),
        or(
          inArray(stripeEvents.status, [...CLAIMABLE_STATUSES]),
          and(eq(stripeEvents.status, "processing"), lte(stripeEvents.leaseUntil, nowMs)),
        ),
      ),
    )
    .returning({
      id: stripeEvents.id,
      type: stripeEvents.type,
      format: stripeEvents.format,
      created: stripeEvents.created,
      livemode: stripeEvents.livemode,
      account: stripeEvents.account,
      context: stripeEvents.context,
      twinOf: stripeEvents.twinOf,
      payload: stripeEvents.payload,
      payloadEncoding: stripeEvents.payloadEncoding,
      attempts: stripeEvents.attempts,
    });
}

/**
 * The statements finding which of `ids` have a twin that is already final: a thin event whose
 * `snapshot_event` was processed (or ignored), or a snapshot event whose thin twin was. Each reads
 * the event's own row and its twin's, through the primary key and the partial `twin_of` index.
 * Returned unrun, to go in the claim's round trip.
 */
export function finishedTwins(db: Database, ids: readonly string[]) {
  // The twin's row, read under another name in a correlated subquery.
  const twin = alias(stripeEvents, "twin");
  const twins = sql`${stripeEvents} AS ${sql.identifier("twin")}`;
  const final = [...FINAL_STATUSES];
  return chunk(ids, IDS_PER_STATEMENT).map((part) =>
    db
      .select({ id: stripeEvents.id })
      .from(stripeEvents)
      .where(
        and(
          inArray(stripeEvents.id, part),
          or(
            and(
              isNotNull(stripeEvents.twinOf),
              sql`EXISTS (SELECT 1 FROM ${twins} WHERE ${twin.id} = ${stripeEvents.twinOf} AND ${inArray(twin.status, final)})`,
            ),
            sql`EXISTS (SELECT 1 FROM ${twins} WHERE ${twin.twinOf} = ${stripeEvents.id} AND ${inArray(twin.status, final)})`,
          ),
        ),
      ),
  );
}

/** Events finished per statement: three bound values each (the id twice, the payload), within D1's 100. */
const FINISHED_PER_STATEMENT = 30;
/** An event to finish, with its payload's gzip bytes (null keeps the payload as it is stored). */
export interface Finished {
  id: string;
  gzip: Uint8Array | null;
}

/**
 * The statements recording successful attempts: `processed`, or `ignored` when no handler wanted the
 * event, each chunk after its count for the charts. `note` (an ignored event's reason) is kept in
 * `last_error`, where the console shows it. The same statement stores each payload compressed (the
 * row is rewritten anyway, so compressing costs no row written): a final event is read again only by
 * a replay, the console and the archive, all through `decodePayload`.
 */
export function finishEvents(db: Database, events: readonly Finished[], status: FinalStatus, nowMs: number, note: string | null = null) {
  const compressed = events.filter((e) => e.gzip !== null);
  const asStored = events.filter((e) => e.gzip === null);
  return [
    ...chunk(compressed, FINISHED_PER_STATEMENT).flatMap((part) => {
      const payload = sql`CASE ${stripeEvents.id} ${sql.join(
        part.map((e) => sql`WHEN ${e.id} THEN ${e.gzip}`),
        sql` `,
      )} END`;
      return finishStatements(db, part, status, nowMs, { status, processedAt: nowMs, lastError: note, payload, payloadEncoding: "gzip" });
    }),
    ...chunk(asStored, FINISHED_PER_STATEMENT).flatMap((part) =>
      finishStatements(db, part, status, nowMs, { status, processedAt: nowMs, lastError: note }),
    ),
  ];
}

function finishStatements(
  db: Database,
  part: readonly Finished[],
  status: FinalStatus,
  nowMs: number,
  set: { status: FinalStatus; processedAt: number; lastError: string | null; payload?: SQL; payloadEncoding?: PayloadEncoding },
): Write[] {
  const where = and(
    inArray(
      stripeEvents.id,
      part.map((e) => e.id),
    ),
    eq(stripeEvents.status, "processing"),
  );
  const lagMs = sql`${nowMs} - ${stripeEvents.receivedAt}`;
  return [
    countMove(db, where, { counts: { [status]: sql`1` }, lag: { sign: 1, lagMs } }, nowMs),
    db
      .update(stripeEvents)
      .set({ ...set, leaseUntil: null, redriveAt: null })
      .where(where),
  ];
}

/** The statements recording a failed attempt; the queue redelivers after `retryDelaySeconds`. */
export function failEvent(db: Database, id: string, error: string, retryDelaySeconds: number, nowMs: number): Write[] {
  const where = and(eq(stripeEvents.id, id), eq(stripeEvents.status, "processing"));
  return [
    countMove(db, where, { counts: { failed: sql`1` } }, nowMs),
    db
      .update(stripeEvents)
      .set({
        status: "failed",
        lastError: error,
        leaseUntil: null,
        redriveAt: nowMs + retryDelaySeconds * 1000 + LEDGER_TIMING.failedSlackMs,
      })
      .where(where),
  ];
}

/**
 * The statements recording an attempt that no retry can fix until an operator acts (a thin event with
 * no STRIPE_SECRET_KEY to fetch its data with): `failed` with the reason in `last_error` and no
 * re-drive time, so the queue acks it (the caller's job), the cron never re-sends it, and a replay
 * processes it once the cause is gone. `PARKED` (src/db/ledger/attention.ts) finds these rows.
 */
export function parkEvent(db: Database, id: string, error: string, nowMs: number): Write[] {
  const where = and(eq(stripeEvents.id, id), eq(stripeEvents.status, "processing"));
  return [
    countMove(db, where, { counts: { failed: sql`1` } }, nowMs),
    db.update(stripeEvents).set({ status: "failed", lastError: error, leaseUntil: null, redriveAt: null }).where(where),
  ];
}

/**
 * The statement putting back an event whose attempt was deferred (the Stripe API budget was spent, or
 * the Worker cannot tell yet which mode it serves): `received` again, its attempt not counted, due for
 * the cron at `redriveAt` in case the delayed message the consumer sends is lost. Counts nothing:
 * `processing` and `received` are both pending.
 */
export function deferEvent(db: Database, id: string, redriveAt: number) {
  return db
    .update(stripeEvents)
    .set({ status: "received", attempts: sql`${stripeEvents.attempts} - 1`, leaseUntil: null, redriveAt })
    .where(and(eq(stripeEvents.id, id), eq(stripeEvents.status, "processing")));
}

/**
 * Marks events whose retries ran out `dead`, at `nowMs` (`dead_at`, which the alerts count from).
 * They stay in the ledger, payload and error included, for replay.
 *
 * @example
 * await markDead(db, ["evt_123"], Date.now());
 */
export async function markDead(db: Database, ids: readonly string[], nowMs: number): Promise<void> {
  await batchAll(
    db,
    chunk(ids, IDS_PER_STATEMENT).flatMap((part) => {
      const where = and(inArray(stripeEvents.id, part), inArray(stripeEvents.status, [...OPEN_STATUSES]));
      return [
        countMove(db, where, { counts: { dead: sql`1`, failed: whenStatus("failed", -1) } }, nowMs),
        db.update(stripeEvents).set({ status: "dead", leaseUntil: null, redriveAt: null, deadAt: nowMs }).where(where),
      ];
    }),
  );
}
