import { sql } from "drizzle-orm";
import { check, customType, index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { EVENT_FORMATS } from "../ledger/event";
import { EVENT_STATUSES } from "../ledger/status";

/**
 * The attention index's condition: the `failed` and `dead` rows an operator replays or purges. A query
 * that should read only those rows repeats it verbatim (`and(IN_ATTENTION_INDEX, …)`): SQLite uses a
 * partial index only for a WHERE that contains the index's own condition.
 */
export const IN_ATTENTION_INDEX = sql.raw("status IN ('failed', 'dead')");

/**
 * A ledger payload as D1 holds it: the JSON text as received, or once the event is final its gzip
 * bytes (bound as a Uint8Array, read back by D1 as an array of byte values). Read it with
 * `decodePayload` (src/db/ledger/payload.ts), never as it is.
 */
export type StoredPayload = string | Uint8Array | ArrayBuffer | number[];

/**
 * The payload column keeps its declared type `text`: SQLite stores a BLOB bound to a TEXT column as a
 * BLOB (column affinity converts numbers, never blobs), so compressed and plain payloads share the
 * column and no migration rewrites the table. Only the TypeScript type says it may be bytes.
 */
const storedPayload = customType<{ data: StoredPayload; driverData: StoredPayload }>({ dataType: () => "text" });

/**
 * The ledger: one row per Stripe event id, written before the delivery is acknowledged. The
 * verified body is kept in `payload` so processing and replay never depend on a queue message
 * (queue messages are capped at 128 KB; Stripe events can be larger).
 * Times we set are Unix milliseconds; `created` is Stripe's own Unix seconds.
 *
 * D1 bills every row a statement writes, index entries included, so each index here is paid for by
 * a query the product runs, and a normal event's status changes touch none of them:
 * - the unique index on `id`: idempotency (`INSERT … ON CONFLICT(id) DO NOTHING`) and lookups;
 * - `seq` (the rowid, free): arrival order for the console, time filters, the sweep (which also counts
 *   arrivals for `ledger_hours`), retention and the archive;
 * - `object_id`, partial (`IS NOT NULL`): an object's timeline (the console's search, `/admin/api/objects`);
 *   events about no object (a destination ping) write no entry. The type filter has no index: it reads
 *   a bounded window of arrivals per page (src/db/ledger/reads.ts), which is why `type` gave its index up;
 * - `redrive_at`, partial: only rows the cron must look at again (never a fresh or final row);
 * - `status` for `failed`/`dead` only, partial: what an operator replays or purges;
 * - `twin_of`, partial: a snapshot event's thin twin, when thin delivery is in use (snapshot events and
 *   thin events without a twin write no entry).
 */
export const stripeEvents = sqliteTable(
  "stripe_events",
  {
    /**
     * Arrival order: `received_at` in microseconds, raised to one past the largest `seq` when that
     * is larger, so it is unique and increases in commit order (D1 has a single writer).
     */
    seq: integer().primaryKey(),
    id: text().notNull().unique(),
    type: text().notNull(),
    apiVersion: text(),
    livemode: integer({ mode: "boolean" }).notNull(),
    /** The connected account (`acct_…`) for Connect events, null for the platform's own. */
    account: text(),
    /** `event.created`, Unix seconds. */
    created: integer().notNull(),
    receivedAt: integer().notNull(),
    status: text({ enum: EVENT_STATUSES }).notNull().default("received"),
    /** Processing attempts claimed so far. */
    attempts: integer().notNull().default(0),
    /** While `processing`: until when the consumer that claimed it holds it. */
    leaseUntil: integer(),
    /**
     * When the cron looks at this row again: set only for rows that need it (an enqueue that failed,
     * a row the sweep found unfinished past its grace, a failed attempt, a replay); null otherwise.
     */
    redriveAt: integer(),
    lastError: text(),
    processedAt: integer(),
    /**
     * When the dead-letter consumer marked the event `dead` (Unix ms); null otherwise. Written by the
     * same statement that sets `dead`, so it costs no row: the alerts count deaths since their last
     * message with it.
     */
    deadAt: integer(),
    /** Position (0-based) of the configured webhook secret that verified the delivery. */
    secretIndex: integer(),
    /**
     * `webhook` for a delivery, `recovery` for an event found through the Events API that never arrived,
     * `lifecycle` for a transition derived here (src/billing/lifecycle.ts).
     */
    source: text({ enum: ["webhook", "recovery", "lifecycle"] })
      .notNull()
      .default("webhook"),
    /** The delivery format; rows recorded before thin events existed are `snapshot`. */
    format: text({ enum: EVENT_FORMATS }).notNull().default("snapshot"),
    /**
     * The id of the object the event is about: `data.object.id` of a snapshot event, `related_object.id`
     * of a thin one (null when it has none). Written once at insert, with its index entry: the only
     * index an event's insert pays for besides `id` (it took the place of the `type` index).
     */
    objectId: text(),
    /**
     * A thin event's `context` as Stripe sent it (`acct_…`, or `acct_…/acct_…` for nested accounts):
     * the Stripe-Context its data is fetched with. Null for snapshot events, which carry `account`.
     */
    context: text(),
    /**
     * A thin `v1.*` event's `snapshot_event`: the id of its snapshot twin (the same change, sent to a
     * webhook endpoint). Whichever of the two is processed second ends `ignored` as a twin.
     */
    twinOf: text(),
    /** The verified body: JSON text until the event is final, then gzip (see `payloadEncoding`). */
    payload: storedPayload().notNull(),
    /**
     * How `payload` is stored: null for the JSON text as received, `gzip` once the statement that made
     * the event final compressed it (src/db/ledger/consumer.ts). Rows written before it existed are null.
     */
    payloadEncoding: text({ enum: ["gzip"] }),
  },
  (t) => [
    check("stripe_events_status_check", sql.raw(`status IN (${EVENT_STATUSES.map((s) => `'${s}'`).join(", ")})`)),
    index("stripe_events_object_idx").on(t.objectId).where(sql`object_id IS NOT NULL`),
    index("stripe_events_redrive_idx").on(t.redriveAt).where(sql`redrive_at IS NOT NULL`),
    index("stripe_events_attention_idx").on(t.status).where(IN_ATTENTION_INDEX),
    index("stripe_events_twin_idx").on(t.twinOf).where(sql`twin_of IS NOT NULL`),
  ],
);

export type StripeEventRow = typeof stripeEvents.$inferSelect;
export type NewStripeEventRow = typeof stripeEvents.$inferInsert;

/** Small key/value state for scheduled jobs (the sweep cursor, the event recovery's progress). */
export const jobState = sqliteTable("job_state", {
  key: text().primaryKey(),
  value: text().notNull(),
  updatedAt: integer().notNull(),
});

/**
 * Hourly aggregates of the ledger for the console's charts, so that a chart never reads a week of
 * ledger rows: one row per UTC hour of arrival, kept as counters by the cron's sweep (which counts each
 * arrival with its status when it passes it) and by the later moves of what it passed
 * (src/db/ledger/hours.ts says which move changes which counter), never recomputed from the ledger.
 * WITHOUT ROWID in migrations (drizzle cannot say so): keyed by the hour alone, a new row is one row
 * written. Counts may go below zero only for hours aggregated before the counters existed
 * (migrations/0009), and are read as zero.
 */
export const ledgerHours = sqliteTable("ledger_hours", {
  /** Start of the UTC hour, Unix ms. */
  hour: integer().primaryKey(),
  /**
   * Arrivals of this hour, counted by the cron's sweep once they are a grace old (src/db/ledger/upkeep.ts):
   * the sweep reads every arrival once anyway. The arrivals in no status below are pending.
   */
  arrivals: integer().notNull().default(0),
  /** Arrivals of this hour by their status now (`received` and `processing` are the rest of `arrivals`). */
  processed: integer().notNull().default(0),
  ignored: integer().notNull().default(0),
  failed: integer().notNull().default(0),
  dead: integer().notNull().default(0),
  /**
   * The processed and ignored arrivals of this hour by received → processed lag: a JSON array of counts
   * per bucket of src/ledger/lag.ts, whose percentiles the charts draw.
   */
  lagCounts: text().notNull().default("[]"),
  /** Nearest-rank percentiles of hours aggregated before lag_counts existed; null for later hours. */
  lagP50Ms: integer("lag_p50_ms"),
  lagP95Ms: integer("lag_p95_ms"),
  /**
   * `failed` and `dead` events in the whole ledger (any arrival time), sampled while this hour was the
   * current one (the last sample wins); null for an hour the cron did not see as current.
   */
  failedTotal: integer(),
  deadTotal: integer(),
  /** When a counter of this hour last changed, Unix ms. */
  updatedAt: integer().notNull(),
});

export type LedgerHourRow = typeof ledgerHours.$inferSelect;

/**
 * The R2 archive's catalogue (ARCHIVE bound): one row per part, an object of up to 2,000 final events
 * of one hour of arrival that retention moved to R2 (src/archive/). A part is `writing` from before
 * its object is put until the statement batch that deletes its events from the ledger marks it
 * `done`, in the same transaction; `listed` once the hour's manifest in R2 names it. Readers and the
 * restore use `done` and `listed` parts only: a `writing` part is a run that stopped between its put
 * and its delete, whose events are all still in the ledger (the next run removes its object).
 */
export const archiveParts = sqliteTable(
  "archive_parts",
  {
    id: integer().primaryKey(),
    /** The UTC hour of arrival of every event in the part, Unix ms. */
    hour: integer().notNull(),
    /** The R2 object key. */
    key: text().notNull(),
    firstSeq: integer().notNull(),
    lastSeq: integer().notNull(),
    /** Lines in the object. */
    lines: integer().notNull(),
    /** Ledger rows the part's commit deleted: `lines` unless one changed between the put and the delete. */
    events: integer().notNull().default(0),
    /** The object's size in bytes (gzip). */
    bytes: integer().notNull(),
    state: text({ enum: ["writing", "done", "listed"] }).notNull(),
    createdAt: integer().notNull(),
  },
  (t) => [index("archive_parts_hour_idx").on(t.hour), index("archive_parts_unlisted_idx").on(t.state).where(sql`state != 'listed'`)],
);

export type ArchivePartRow = typeof archiveParts.$inferSelect;

/**
 * How an archived event id is found without reading the archive: for each part, the ids' 3-byte
 * fingerprints, split by the top `bits` bits of their hash into 2^bits buckets of about 64 (src/archive/fingerprint.ts).
 * A lookup reads one bucket row per part (the primary key's range) and opens only the parts whose
 * row holds the id's fingerprint. WITHOUT ROWID in migrations: a row is one row written.
 */
export const archiveIndex = sqliteTable(
  "archive_index",
  {
    bits: integer().notNull(),
    bucket: integer().notNull(),
    part: integer().notNull(),
    fingerprints: customType<{ data: Uint8Array | number[]; driverData: Uint8Array | number[] }>({ dataType: () => "blob" })().notNull(),
  },
  (t) => [primaryKey({ columns: [t.bits, t.bucket, t.part] })],
);

export * from "./admin-schema";
export * from "./billing-schema";
