import { getTableColumns, SQL, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type DrizzleD1Database, drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect, type SQLiteColumn, type SQLiteTable } from "drizzle-orm/sqlite-core";

/**
 * A Drizzle client over a D1 binding. Made once per binding object and kept while the binding lives
 * (a WeakMap, never a module-level client built from `env`): Drizzle holds no connection state, and
 * statements prepared on it (see `cachedFor`) are then built once per isolate instead of per request.
 *
 * @example
 * const db = createDb(env.DB);
 */
export function createDb(d1: D1Database) {
  let db = clients.get(d1);
  if (!db) {
    db = drizzle(d1, { casing: "snake_case" });
    clients.set(d1, db);
  }
  return db;
}

export type Database = DrizzleD1Database & { $client: D1Database };

const clients = new WeakMap<D1Database, Database>();

/**
 * Memoises something built from a client (a prepared statement with placeholders) per client, so a
 * hot path binds values instead of building SQL on every call.
 *
 * @example
 * const insert = cachedFor((db) => db.insert(t).values({ id: sql.placeholder("id") }).prepare());
 * await insert(db).run({ id });
 */
export function cachedFor<T>(build: (db: Database) => T): (db: Database) => T {
  const built = new WeakMap<Database, T>();
  return (db) => {
    let value = built.get(db);
    if (value === undefined) {
      value = build(db);
      built.set(db, value);
    }
    return value;
  };
}

/**
 * Runs a list of statements, possibly empty, in one `db.batch`: one round trip and one transaction.
 * Returns each statement's result, in order.
 *
 * @example
 * const rows = (await batchAll(db, claimEvents(db, ids, nowMs))).flat();
 */
export async function batchAll<T extends BatchItem<"sqlite">>(db: Database, statements: readonly T[]): Promise<Awaited<T>[]> {
  const [first, ...rest] = statements;
  return first ? ((await db.batch([first, ...rest])) as Awaited<T>[]) : [];
}

/** Turns drizzle's `sql` templates into SQL text and parameters, as the client's own dialect does. */
const dialect = new SQLiteAsyncDialect({ casing: "snake_case" });

/**
 * A raw SQL statement that can go in a `db.batch` with the query builder's statements (drizzle 0.45's
 * own `db.run(sql)` cannot: its batch path binds a statement it never prepared). For what the query
 * builder cannot say: an upsert whose values come from a grouped SELECT, a delete keyed by a JSON list.
 *
 * @example
 * await batchAll(db, [rawStatement(db, sql`UPDATE ledger_hours SET dead = dead + 1 WHERE hour = ${hour}`)]);
 */
export function rawStatement(db: Database, query: SQL): BatchItem<"sqlite"> {
  const built = dialect.sqlToQuery(query);
  const statement = {
    stmt: db.$client.prepare(built.sql),
    _prepare: () => statement,
    getQuery: () => ({ ...built, method: "run" }),
    mapResult: (result: unknown) => result,
    // Awaited on its own (outside a batch), it runs like db.run.
    // biome-ignore lint/suspicious/noThenProperty: a statement is awaitable, as drizzle's own are.
    then: (resolve: (value: D1Result) => unknown, reject: (reason: unknown) => unknown) =>
      statement.stmt
        .bind(...built.params)
        .run()
        .then(resolve, reject),
  };
  return statement as unknown as BatchItem<"sqlite">;
}

/** D1 binds at most 100 parameters per statement; lists of ids are split to leave room for the rest. */
export const IDS_PER_STATEMENT = 90;

/**
 * Splits a list into parts of at most `size`.
 *
 * @example
 * chunk([1, 2, 3], 2); // [[1, 2], [3]]
 */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return parts;
}

/**
 * An `INSERT … SELECT <values> WHERE <when>` for one row, as a statement that can go in a `db.batch`
 * (drizzle cannot batch raw SQL): the row is inserted only when `when` holds at that point of the
 * transaction, which lets a statement depend on what the batch's earlier statements wrote. Columns
 * not in `values` take their default (or null). Chain `.onConflictDoNothing()` / `.returning()` on it.
 *
 * @example
 * conditionalInsert(db, jobState, { key: "k", value: "v", updatedAt: now }, sql`NOT EXISTS (SELECT 1 FROM job_state)`);
 */
export function conditionalInsert<T extends SQLiteTable>(
  db: Database,
  table: T,
  values: Partial<Record<keyof T["$inferInsert"], unknown>>,
  when: SQL,
) {
  const columns = getTableColumns(table) as Record<string, SQLiteColumn>;
  const list = Object.entries(columns).map(([key, column]) => {
    const value = (values as Record<string, unknown>)[key];
    if (value instanceof SQL) return value;
    if (value !== undefined) return sql`${column.mapToDriverValue(value)}`;
    return column.hasDefault && column.default !== undefined ? sql`${column.mapToDriverValue(column.default)}` : sql`NULL`;
  });
  return db.insert(table).select(sql`SELECT ${sql.join(list, sql`, `)} WHERE ${when}`);
}
