import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

/**
 * The console's sessions, one row per sign-in, so that a session can end on the server: after 8 hours
 * whatever happens (`issued_at`), after 30 idle minutes (`last_seen_at`), or when it signs out (its row
 * is deleted; "sign out everywhere" deletes them all). The browser's cookie carries the id and the
 * issue time, signed. WITHOUT ROWID in migrations/0006 (drizzle cannot say so).
 */
export const consoleSessions = sqliteTable("console_sessions", {
  /** 128 random bits, hex. */
  id: text().primaryKey(),
  issuedAt: integer().notNull(),
  lastSeenAt: integer().notNull(),
});

/**
 * Client addresses refused by the admin API until `until` (Unix ms), because they spent the sign-in
 * limit on wrong tokens: the rate limiter can count an attempt but cannot say, without counting one,
 * whether an address is over its limit, and a bearer request must be refused before its token is
 * compared (otherwise a limited guesser would still recognise the right token by its 200).
 */
export const adminLockouts = sqliteTable("admin_lockouts", {
  /** The address as the limiter keys it (an IPv6 client by its /64). */
  clientKey: text().primaryKey(),
  until: integer().notNull(),
});
