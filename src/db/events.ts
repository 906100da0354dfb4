import { and, eq, gt, inArray, isNull, lt, lte, ne, or, sql } from "drizzle-orm";
import { batchAll, cachedFor, type Database } from "./client";
import { type EventFormat, type EventStatus, IN_ATTENTION_INDEX, stripeEvents } from "./schema";

/**
 * The ledger's status machine, in one place.
 *
 *   received ──claim──▶ processing ──finish──▶ processed | ignored      (final)
 *       ▲                    │
 *       │                  fail ──▶ failed ──claim──▶ processing …
 *       │                    │              └─retries exhausted──▶ dead (dead_at set)
 *       │                  park ──▶ failed, parked (no retry, no re-drive: waits for an operator)
 *       ├──────────── replay (failed | dead) ◀──────────────────────────┘
 *       └──────────── replay (processed | ignored), only when explicitly allowed
 *
 * Replaying a final event is safe because fulfilments are once-only (src/billing/once.ts) and
 * projections keep the newest state; it still runs `on` handlers again, so it needs an operator's
 * explicit confirmation (`allowFinal`), e.g. after fixing a handler.
 *
 * A normal event is written three times — inserted, claimed, finished — and none of those writes
 * touches an index other than the ones the insert creates. The cron's re-drive (`redrive_at`) is
 * written only for rows that need it.
 *
 * A parked row is `failed` with no `redrive_at`: the queue acked it and the cron's `takeDue` never
 * selects it, so nothing retries it in a loop; a replay (which accepts any `failed` row) processes it
 * again. Only `parkEvent` writes that combination (`failEvent` always sets `redrive_at`, `markDead`
 * sets `dead`), so `PARKED` finds exactly the parked rows.
 */
export const FINAL_STATUSES = ["processed", "ignored"] as const satisfies readonly EventStatus[];
/** Statuses that still owe processing; `dead` waits for an operator instead. */
export const OPEN_STATUSES = ["received", "processing", "failed"] as const satisfies readonly EventStatus[];
/** Statuses an operator may replay, and that retention never deletes. */
export const REPLAYABLE_STATUSES = ["dead", "failed"] as const satisfies readonly EventStatus[];
/** Every status that is not final: counted exactly, whatever its age, by the stats and the console. */
export const UNFINISHED_STATUSES = [...OPEN_STATUSES, "dead"] as const satisfies readonly EventStatus[];
export type UnfinishedStatus = (typeof UNFINISHED_STATUSES)[number];
/** What a replay may reset: failed and dead events, and final ones too when explicitly allowed. */
export function replayableStatuses(allowFinal: boolean): readonly EventStatus[] {
  return allowFinal ? [...REPLAYABLE_STATUSES, ...FINAL_STATUSES] : REPLAYABLE_STATUSES;
}
/** Statuses a queue message may claim outright (a `processing` row only once its lease has run out). */
const CLAIMABLE = ["received", "failed"] as const satisfies readonly EventStatus[];

/**
 * How long things may take before the cron steps in. Re-sending an event that is in fact moving is
 * harmless (the claim lets one consumer through), so these only bound how long a loss can last.
 */
export const LEDGER_TIMING = {
  /**
   * A new event is sent to the queue in `waitUntil` right after the 2xx, with no second D1 write.
   * If it is still `received` this long after arrival, its send is presumed lost (the isolate died
   * before it ran) and the cron sends it again. A consumer backlog shorter than this re-sends nothing.
   */
  graceMs: 5 * 60_000,
  /**
   * How long a claim holds an event: Cloudflare stops a queue consumer invocation after 15 minutes,
   * so a claim is only ever taken over from a consumer that is certainly gone.
   */
  leaseMs: 15 * 60_000,
  /**
   * The cron re-sends an unfinished event when it is `graceMs` old, then each time its age has
   * doubled (10, 20, 40 … minutes), at least every `maxRedriveIntervalMs`: a long backlog costs a
   * few copies per event, never one per cron tick.
   */
  maxRedriveIntervalMs: 6 * 60 * 60_000,
  /** Added to a failed attempt's retry delay: the queue's own redelivery should come well before. */
  failedSlackMs: 15 * 60_000,
} as const;

/** The job_state key of the sweep's position (the `seq` it has read up to). */
export const SWEEP_STATE = "ledger_sweep";

/** D1 binds at most 100 parameters per statement; lists of ids are split to leave room for the rest. */
const IDS_PER_STATEMENT = 90;

/**
 * What the ledger records about an event, whichever format delivered it (see src/stripe/event-shape.ts
 * for how a verified snapshot event or thin notification becomes one).
 */
export interface LedgerEvent {
  id: string;
  type: string;
  format: EventFormat;
  /** Unix seconds (a thin event's ISO 8601 `created`, converted). */
  created: number;
  livemode: boolean;
  /** A snapshot event's `api_version`; null for thin events, which have none. */
  apiVersion: string | null;
  /** The connected account (`acct_…`) the event belongs to, null for the platform's own. */
  account: string | null;
  /** A thin event's `context`, as sent. */
  context: string | null;
  /** `data.object.id` (snapshot) or `related_object.id` (thin), when there is one. */
  objectId: string | null;
}

/** How an event reached the ledger, besides the event itself. */
export interface Arrival {
  receivedAt: number;
  /** The body as stored: the verified bytes of a delivery, or the Events API's JSON. */
  payload: string;
  source: "webhook" | "recovery";
  /** Which configured webhook secret verified a delivery. */
  secretIndex?: number;
}

/**
 * The insert, built once per D1 binding with placeholders: the request path only binds values.
 * `seq` is the arrival time in microseconds, or one past the newest row when that is larger, so
 * arrival order is unique and time-ordered without a second index.
 */
const insertStatement = cachedFor((db) =>
  db
    .insert(stripeEvents)
    .values({
      seq: sql`max(${sql.placeholder("seqFloor")}, (SELECT coalesce(max(${stripeEvents.seq}), 0) + 1 FROM ${stripeEvents}))`,
      id: sql.placeholder("id"),
      type: sql.placeholder("type"),
      apiVersion: sql.placeholder("apiVersion"),
      livemode: sql.placeholder("livemode"),
      account: sql.placeholder("account"),
      created: sql.placeholder("created"),
      receivedAt: sql.placeholder("receivedAt"),
      source: sql.placeholder("source"),
      secretIndex: sql.placeholder("secretIndex"),
      format: sql.placeholder("format"),
      objectId: sql.placeholder("objectId"),
      context: sql.placeholder("context"),
      payload: sql.placeholder("payload"),
    })
    .onConflictDoNothing({ target: stripeEvents.id })
    .returning({ seq: stripeEvents.seq })
    .prepare(),
);

/**
 * Inserts the ledger row for an event unless one with that id exists, in one statement
 * (`INSERT … ON CONFLICT(id) DO NOTHING RETURNING`), so concurrent deliveries of one event cannot
 * both win. Returns true when this call created the row. The row starts `received` with no re-drive
 * time: the cron's sweep finds it if it is still unclaimed after `LEDGER_TIMING.graceMs`.
 *
 * @example
 * const isNew = await recordEvent(db, snapshotEntry(event), { receivedAt: Date.now(), payload, source: "webhook", secretIndex: 0 });
 */
export async function recordEvent(db: Database, event: LedgerEvent, arrival: Arrival): Promise<boolean> {
  const inserted = await insertStatement(db).all({
    seqFloor: arrival.receivedAt * 1000,
    id: event.id,
    type: event.type,
    apiVersion: event.apiVersion,
    livemode: event.livemode ? 1 : 0,
    account: event.account,
    created: event.created,
    receivedAt: arrival.receivedAt,
    source: arrival.source,
    secretIndex: arrival.secretIndex ?? null,
    format: event.format,
    objectId: event.objectId,
    context: event.context,
    payload: arrival.payload,
  });
  return inserted.length === 1;
}

/**
 * After a failed queue send: makes the rows due at the cron's next run instead of after the grace.
 * The only D1 write a delivery makes after its 2xx, and only on this failure path.
 */
export async function markSendFailed(db: Database, ids: readonly string[], nowMs: number): Promise<void> {
  await batchAll(
    db,
    chunk(ids, IDS_PER_STATEMENT).map((part) =>
      db
        .update(stripeEvents)
        .set({ redriveAt: nowMs })
        .where(and(inArray(stripeEvents.id, part), inArray(stripeEvents.status, [...OPEN_STATUSES]))),
    ),
  );
}

export interface ClaimedEvent {
  id: string;
  type: string;
  format: EventFormat;
  /** Unix seconds. */
  created: number;
  payload: string;
  /** Attempts including this one. */
  attempts: number;
}

/**
 * The statements that take events for processing: one conditional UPDATE per chunk of ids, matching
 * only events waiting to be processed (`received`, `failed`) or held under a lease that has run out,
 * and returning nothing for the rest (already final, dead, held by a live consumer, unknown).
 * Returned unrun so the consumer sends a batch's worth in one `db.batch` round trip.
 */
export function claimEvents(db: Database, ids: readonly string[], nowMs: number) {
  return chunk(ids, IDS_PER_STATEMENT - 3).map((part) =>
    db
      .update(stripeEvents)
      .set({ status: "processing", attempts: sql`${stripeEvents.attempts} + 1`, leaseUntil: nowMs + LEDGER_TIMING.leaseMs })
      .where(
        and(
          inArray(stripeEvents.id, part),
          or(inArray(stripeEvents.status, [...CLAIMABLE]), and(eq(stripeEvents.status, "processing"), lte(stripeEvents.leaseUntil, nowMs))),
        ),
      )
      .returning({
        id: stripeEvents.id,
        type: stripeEvents.type,
        format: stripeEvents.format,
        created: stripeEvents.created,
        payload: stripeEvents.payload,
        attempts: stripeEvents.attempts,
      }),
  );
}

/** The statements recording successful attempts: `processed`, or `ignored` when no handler wanted the event. */
export function finishEvents(db: Database, ids: readonly string[], status: (typeof FINAL_STATUSES)[number], nowMs: number) {
  return chunk(ids, IDS_PER_STATEMENT).map((part) =>
    db
      .update(stripeEvents)
      .set({ status, processedAt: nowMs, leaseUntil: null, redriveAt: null, lastError: null })
      .where(and(inArray(stripeEvents.id, part), eq(stripeEvents.status, "processing"))),
  );
}

/** The statement recording a failed attempt; the queue redelivers after `retryDelaySeconds`. */
export function failEvent(db: Database, id: string, error: string, retryDelaySeconds: number, nowMs: number) {
  return db
    .update(stripeEvents)
    .set({
      status: "failed",
      lastError: error,
      leaseUntil: null,
      redriveAt: nowMs + retryDelaySeconds * 1000 + LEDGER_TIMING.failedSlackMs,
    })
    .where(and(eq(stripeEvents.id, id), eq(stripeEvents.status, "processing")));
}

/**
 * The statement recording an attempt that no retry can fix until an operator acts (a thin event with
 * no STRIPE_SECRET_KEY to fetch its data with): `failed` with the reason in `last_error` and no
 * re-drive time, so the queue acks it (the caller's job), the cron never re-sends it, and a replay
 * processes it once the cause is gone. `PARKED` finds these rows.
 */
export function parkEvent(db: Database, id: string, error: string) {
  return db
    .update(stripeEvents)
    .set({ status: "failed", lastError: error, leaseUntil: null, redriveAt: null })
    .where(and(eq(stripeEvents.id, id), eq(stripeEvents.status, "processing")));
}

/**
 * The condition of a parked row (see `parkEvent`). It names the attention index's condition
 * verbatim, so SQLite reads only `failed`/`dead` rows from `stripe_events_attention_idx`, never the
 * ledger.
 */
export const PARKED = sql`${IN_ATTENTION_INDEX} AND ${stripeEvents.status} = 'failed' AND ${stripeEvents.redriveAt} IS NULL`;

/**
 * Marks events whose retries ran out `dead`, at `nowMs` (`dead_at`, which the alerts count from).
 * They stay in the ledger, payload and error included, for replay.
 */
export async function markDead(db: Database, ids: readonly string[], nowMs: number): Promise<void> {
  await batchAll(
    db,
    chunk(ids, IDS_PER_STATEMENT).map((part) =>
      db
        .update(stripeEvents)
        .set({ status: "dead", leaseUntil: null, redriveAt: null, deadAt: nowMs })
        .where(and(inArray(stripeEvents.id, part), inArray(stripeEvents.status, [...OPEN_STATUSES]))),
    ),
  );
}

/**
 * Puts `failed`/`dead` rows among `ids` (and `processed`/`ignored` ones with `allowFinal`) back to
 * `received`, due for the cron a grace from now (so a replay whose send fails is still re-driven),
 * and returns the ids it reset. Attempts restart at 0 so the retry backoff starts afresh; the last
 * error stays visible until the next outcome.
 */
export async function resetForReplay(db: Database, ids: readonly string[], nowMs: number, allowFinal = false): Promise<string[]> {
  const parts = await batchAll(
    db,
    chunk(ids, IDS_PER_STATEMENT).map((part) =>
      db
        .update(stripeEvents)
        .set({ status: "received", attempts: 0, leaseUntil: null, redriveAt: nowMs + LEDGER_TIMING.graceMs, deadAt: null })
        .where(and(inArray(stripeEvents.id, part), inArray(stripeEvents.status, [...replayableStatuses(allowFinal)])))
        .returning({ id: stripeEvents.id }),
    ),
  );
  return parts.flat().map((r) => r.id);
}

/** The `seq` of an arrival time: every row received at or after `ms` has a `seq` at least this. */
export function seqAt(ms: number): number {
  return ms * 1000;
}

/**
 * The sweep: rows that arrived after `afterSeq` and at least a grace ago and are still unfinished
 * with no re-drive time (their send was lost, or their consumer is slow or gone) get one, due now,
 * so `takeDue` handles them. Reads at most `limit` rows in arrival order; returns how many it
 * scheduled and the `seq` it reached (the next sweep starts after it).
 */
export async function sweepArrivals(
  db: Database,
  afterSeq: number,
  nowMs: number,
  limit: number,
): Promise<{ scheduled: number; reachedSeq: number }> {
  const window = db
    .select({ seq: stripeEvents.seq })
    .from(stripeEvents)
    .where(and(gt(stripeEvents.seq, afterSeq), lt(stripeEvents.seq, seqAt(nowMs - LEDGER_TIMING.graceMs + 1))))
    .orderBy(stripeEvents.seq)
    .limit(limit);
  const [scheduled, [reached]] = await db.batch([
    db
      .update(stripeEvents)
      .set({ redriveAt: nowMs })
      .where(
        and(inArray(stripeEvents.seq, window), isNull(stripeEvents.redriveAt), inArray(stripeEvents.status, ["received", "processing"])),
      )
      .returning({ seq: stripeEvents.seq }),
    db.select({ seq: sql<number | null>`max(${sql.raw("seq")})` }).from(window.as("window")),
  ]);
  return { scheduled: scheduled.length, reachedSeq: reached?.seq ?? afterSeq };
}

/**
 * Takes up to `limit` rows whose re-drive time has passed and reschedules them in the same statement
 * (next time: their age again, between the grace and `maxRedriveIntervalMs`), returning their ids
 * for the caller to send. Rows held under a live lease are left for later.
 */
export async function takeDue(db: Database, nowMs: number, limit: number): Promise<string[]> {
  const due = db
    .select({ seq: stripeEvents.seq })
    .from(stripeEvents)
    .where(
      and(
        lte(stripeEvents.redriveAt, nowMs),
        inArray(stripeEvents.status, [...OPEN_STATUSES]),
        or(ne(stripeEvents.status, "processing"), lte(stripeEvents.leaseUntil, nowMs)),
      ),
    )
    .orderBy(stripeEvents.redriveAt)
    .limit(limit);
  const { graceMs, maxRedriveIntervalMs } = LEDGER_TIMING;
  const rows = await db
    .update(stripeEvents)
    .set({ redriveAt: sql`${nowMs} + min(max(${nowMs} - ${stripeEvents.receivedAt}, ${graceMs}), ${maxRedriveIntervalMs})` })
    .where(inArray(stripeEvents.seq, due))
    .returning({ id: stripeEvents.id });
  return rows.map((r) => r.id);
}

/**
 * Deletes up to `limit` final (`processed`, `ignored`) rows that arrived before `beforeMs`, oldest
 * first. `failed` and `dead` rows are never deleted here, and the newest row is always kept so that
 * `seq` never goes back. Returns how many rows it deleted.
 */
export async function pruneFinal(db: Database, beforeMs: number, limit: number): Promise<number> {
  const old = db
    .select({ seq: stripeEvents.seq })
    .from(stripeEvents)
    .where(
      and(
        lt(stripeEvents.seq, seqAt(beforeMs)),
        sql`${stripeEvents.seq} < (SELECT max(${stripeEvents.seq}) FROM ${stripeEvents})`,
        inArray(stripeEvents.status, [...FINAL_STATUSES]),
      ),
    )
    .orderBy(stripeEvents.seq)
    .limit(limit);
  const deleted = await db.delete(stripeEvents).where(inArray(stripeEvents.seq, old)).returning({ seq: stripeEvents.seq });
  return deleted.length;
}

/**
 * Deletes `failed`/`dead` rows among `ids` (an operator's explicit purge) and returns the ids deleted.
 * The newest row is kept, like retention does, so that `seq` never goes back.
 */
export async function purgeEvents(db: Database, ids: readonly string[]): Promise<string[]> {
  const parts = await batchAll(
    db,
    chunk(ids, IDS_PER_STATEMENT).map((part) =>
      db
        .delete(stripeEvents)
        .where(
          and(
            inArray(stripeEvents.id, part),
            inArray(stripeEvents.status, [...REPLAYABLE_STATUSES]),
            lt(stripeEvents.seq, sql`(SELECT max(${stripeEvents.seq}) FROM ${stripeEvents})`),
          ),
        )
        .returning({ id: stripeEvents.id }),
    ),
  );
  return parts.flat().map((r) => r.id);
}

/** Splits a list into parts of at most `size`. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}
