import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { jobStateStatement, readJobState, writeJobState } from "../db/job-state";
import { jobState } from "../db/schema";
import { BACKFILL_TYPES, type BackfillType } from "./objects";

/** The job_state key of the backfill's progress. */
export const BACKFILL_STATE = "backfill";
/** The job_state key of the lease that keeps two invocations (a cron tick, an admin call) from running it at once. */
const BACKFILL_LEASE = "backfill_lease";
/**
 * How long a lease holds: longer than one bounded run (its time budget, plus one API request's timeout
 * and the page's D1 batch), so a lease is only taken over from an invocation that is certainly gone.
 */
const BACKFILL_LEASE_MS = 60_000;

/** Where one object type stands: objects imported so far, the last id read (the list cursor), and whether its list is exhausted. */
export interface TypeProgress {
  imported: number;
  startingAfter: string | null;
  done: boolean;
}

/**
 * A run of the backfill, saved in job_state after every page together with that page's rows.
 * `running`: the cron (and every POST) continues it. `paused`: the API refused a request in a way a
 * retry cannot fix (a key without read access, …); it waits for a POST. `done`: every type is imported.
 */
export interface BackfillState {
  /** Identifies the run in logs and in the rows it writes (`last_event_id` = `backfill:<runId>`). */
  runId: string;
  status: "running" | "paused" | "done";
  startedAt: number;
  finishedAt: number | null;
  /** The last API failure, kept until a page succeeds again: its error class and HTTP status, never its message. */
  lastError: { at: number; error: string; status: number | null } | null;
  /** Where the account being imported stands. */
  types: Record<BackfillType, TypeProgress>;
  /** The account being imported: `''` (or absent, in runs saved before Connect) for the platform, else `acct_…`. */
  account?: string;
  /** Connected accounts finished (the platform is not counted). */
  accountsDone?: number;
  /** Objects imported per type in the accounts finished before this one. */
  earlier?: Record<BackfillType, number>;
}

/** The saved run, or null when no backfill was ever started. A type added since it was saved starts at its first page. */
export async function readBackfill(db: Database): Promise<BackfillState | null> {
  const saved = await readJobState<BackfillState>(db, BACKFILL_STATE);
  if (saved) saved.types = { ...freshTypes(), ...saved.types };
  return saved;
}

/** Every type at its first page. */
export function freshTypes(): Record<BackfillType, TypeProgress> {
  return Object.fromEntries(BACKFILL_TYPES.map((t) => [t, { imported: 0, startingAfter: null, done: false }])) as Record<
    BackfillType,
    TypeProgress
  >;
}

/** The statement saving `state`, to run in one batch with the rows of the page it accounts for. */
export function saveBackfillStatement(db: Database, state: BackfillState, nowMs: number) {
  return jobStateStatement(db, BACKFILL_STATE, state, nowMs);
}

/**
 * Starts a run, or resumes one: a `running` run is left as it is, a `paused` one is set running
 * again (its cursors kept), and after a `done` one (or none) a new run starts from the first page of
 * every type. Call it while holding the lease. Returns the state as saved.
 *
 * @example
 * const state = await startOrResumeBackfill(db, Date.now());
 */
export async function startOrResumeBackfill(db: Database, nowMs: number): Promise<BackfillState> {
  const saved = await readBackfill(db);
  if (saved?.status === "running") return saved;
  const state: BackfillState =
    saved?.status === "paused"
      ? { ...saved, status: "running", lastError: null }
      : {
          runId: new Date(nowMs).toISOString(),
          status: "running",
          startedAt: nowMs,
          finishedAt: null,
          lastError: null,
          types: freshTypes(),
          account: "",
          accountsDone: 0,
        };
  await writeJobState(db, BACKFILL_STATE, state, nowMs);
  return state;
}

/**
 * Takes the backfill's lease for BACKFILL_LEASE_MS, in one conditional statement; null when another
 * invocation holds a live one. The returned token releases it.
 *
 * @example
 * const lease = await acquireBackfillLease(db, Date.now());
 * if (lease) try { … } finally { await releaseBackfillLease(db, lease); }
 */
export async function acquireBackfillLease(db: Database, nowMs: number): Promise<string | null> {
  const holder = crypto.randomUUID();
  const value = JSON.stringify({ holder, until: nowMs + BACKFILL_LEASE_MS });
  const taken = await db
    .insert(jobState)
    .values({ key: BACKFILL_LEASE, value, updatedAt: nowMs })
    .onConflictDoUpdate({
      target: jobState.key,
      set: { value, updatedAt: nowMs },
      setWhere: sql`json_extract(${jobState.value}, '$.until') <= ${nowMs}`,
    })
    .returning({ key: jobState.key });
  return taken.length > 0 ? holder : null;
}

/** Gives the lease back (only if it is still this holder's), so the next caller need not wait for it to run out. */
export async function releaseBackfillLease(db: Database, holder: string): Promise<void> {
  await db
    .update(jobState)
    .set({ value: JSON.stringify({ holder, until: 0 }) })
    .where(and(eq(jobState.key, BACKFILL_LEASE), sql`json_extract(${jobState.value}, '$.holder') = ${holder}`));
}

/** The progress as the admin API, the console and the script show it (snake_case, like Stripe's API). */
export interface BackfillProgress {
  status: "not_started" | BackfillState["status"];
  done: boolean;
  started_at: string | null;
  finished_at: string | null;
  last_error: { at: string; error: string; status: number | null; message: string } | null;
  /**
   * Per type, objects imported in every account so far (entitlements: customers asked about), and
   * whether the current account's are done.
   */
  types: Record<BackfillType, { imported: number; done: boolean }>;
  /** The account being imported: null for the platform, else the connected account's `acct_…`. */
  account: string | null;
  /** Connected accounts finished. */
  accounts_done: number;
}

/**
 * The saved state (or none) as progress: per type, objects imported and whether it is finished.
 *
 * @example
 * c.json(backfillProgress(await readBackfill(db)));
 */
export function backfillProgress(state: BackfillState | null): BackfillProgress {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    status: state?.status ?? "not_started",
    done: state?.status === "done",
    started_at: iso(state?.startedAt ?? null),
    finished_at: iso(state?.finishedAt ?? null),
    last_error: state?.lastError
      ? { at: iso(state.lastError.at)!, error: state.lastError.error, status: state.lastError.status, message: explainError(state) }
      : null,
    types: Object.fromEntries(
      BACKFILL_TYPES.map((t) => [
        t,
        { imported: (state?.earlier?.[t] ?? 0) + (state?.types[t].imported ?? 0), done: state?.types[t].done ?? false },
      ]),
    ) as BackfillProgress["types"],
    account: state?.account || null,
    accounts_done: state?.accountsDone ?? 0,
  };
}

/** What the last API failure means for the run, written for the operator. */
function explainError(state: BackfillState): string {
  const { error, status } = state.lastError!;
  const what = status === null ? `The Stripe API could not be reached (${error})` : `The Stripe API answered ${status} (${error})`;
  if (state.status === "paused") {
    return (
      `${what}; retrying cannot fix that, so the backfill is paused. ` +
      "Check that STRIPE_SECRET_KEY may read Customers, Products, Prices, Subscriptions, Checkout Sessions, Invoices, " +
      "PaymentIntents, Charges and Entitlements (and, for STRIPE_CONNECT_ACCOUNTS=all, connected accounts), " +
      "then resume it (POST /admin/api/backfill, or the console's button)."
    );
  }
  return `${what}; the backfill continues where it stopped at the next cron tick (every minute) or POST.`;
}
