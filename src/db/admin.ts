import { and, eq, gt, lt, or } from "drizzle-orm";
import { adminLockouts, consoleSessions } from "./admin-schema";
import type { Database } from "./client";

// The statements behind the console's sessions and the admin API's lockouts (src/db/admin-schema.ts).

/** How long a console session lasts, however active: a copied cookie stops working within a day's work. */
export const SESSION_LIFETIME_MS = 8 * 60 * 60_000;
/** How long a console session lasts without a request. */
export const SESSION_IDLE_MS = 30 * 60_000;

/**
 * Records a new session, and deletes the ones that ended by time (there are only ever a few).
 *
 * @example
 * await startSession(db, crypto.randomUUID(), Date.now());
 */
export async function startSession(db: Database, id: string, nowMs: number): Promise<void> {
  await db.batch([
    db
      .delete(consoleSessions)
      .where(or(lt(consoleSessions.issuedAt, nowMs - SESSION_LIFETIME_MS), lt(consoleSessions.lastSeenAt, nowMs - SESSION_IDLE_MS))),
    db.insert(consoleSessions).values({ id, issuedAt: nowMs, lastSeenAt: nowMs }),
  ]);
}

/**
 * Whether the session `id`, issued at `issuedAt`, is still live (signed in less than 8 hours ago,
 * used within the last 30 minutes, not signed out), and, if so, marks it used now. One statement.
 *
 * @example
 * if (await touchSession(db, id, issuedAt, Date.now())) next();
 */
export async function touchSession(db: Database, id: string, issuedAt: number, nowMs: number): Promise<boolean> {
  const touched = await db
    .update(consoleSessions)
    .set({ lastSeenAt: nowMs })
    .where(
      and(
        eq(consoleSessions.id, id),
        eq(consoleSessions.issuedAt, issuedAt),
        gt(consoleSessions.issuedAt, nowMs - SESSION_LIFETIME_MS),
        gt(consoleSessions.lastSeenAt, nowMs - SESSION_IDLE_MS),
      ),
    )
    .returning({ id: consoleSessions.id });
  return touched.length === 1;
}

/** Ends one session (sign-out): its cookie, wherever it was copied to, no longer signs anyone in. */
export async function endSession(db: Database, id: string): Promise<void> {
  await db.delete(consoleSessions).where(eq(consoleSessions.id, id));
}

/** Ends every session (sign out everywhere). Returns how many were live. */
export async function endAllSessions(db: Database): Promise<number> {
  return (await db.delete(consoleSessions).returning({ id: consoleSessions.id })).length;
}

/**
 * Until when (Unix ms) an address is locked out of the admin API, or null.
 *
 * @example
 * if ((await lockedUntil(db, key, Date.now())) !== null) refuse();
 */
export async function lockedUntil(db: Database, clientKey: string, nowMs: number): Promise<number | null> {
  const [row] = await db
    .select({ until: adminLockouts.until })
    .from(adminLockouts)
    .where(and(eq(adminLockouts.clientKey, clientKey), gt(adminLockouts.until, nowMs)));
  return row?.until ?? null;
}

/** Locks an address out of the admin API until `until`, and forgets the lockouts that have ended (there are only ever a few). */
export async function lockOut(db: Database, clientKey: string, until: number, nowMs: number): Promise<void> {
  await db.batch([
    db.delete(adminLockouts).where(lt(adminLockouts.until, nowMs)),
    db.insert(adminLockouts).values({ clientKey, until }).onConflictDoUpdate({ target: adminLockouts.clientKey, set: { until } }),
  ]);
}
