import { env } from "cloudflare:workers";

/** One statement the Worker ran, with what D1 itself reported about it. */
export interface ObservedStatement {
  sql: string;
  params: unknown[];
  /** D1's `meta.rows_written`: table rows and index entries. */
  rowsWritten: number;
  rowsRead: number;
}

/**
 * The real D1 binding, recording every statement it runs with D1's own `meta`. Statements run
 * unchanged; `first()` and `raw()` are answered from `all()` so that their `meta` is visible too
 * (same rows, same order).
 *
 * @example
 * const { db, statements } = observedD1();
 * await deliver(event, { env: envWith({ DB: db }) });
 * statements.reduce((n, s) => n + s.rowsWritten, 0);
 */
export function observedD1(real: D1Database = env.DB): { db: D1Database; statements: ObservedStatement[] } {
  const statements: ObservedStatement[] = [];
  // Each wrapped statement's real statement, SQL and bound values, for batch().
  const wrappedOf = new WeakMap<object, { stmt: D1PreparedStatement; sql: string; params: unknown[] }>();
  const record = (sql: string, params: unknown[], meta: D1Meta | undefined) =>
    statements.push({ sql, params, rowsWritten: meta?.rows_written ?? 0, rowsRead: meta?.rows_read ?? 0 });

  const wrapStatement = (stmt: D1PreparedStatement, sql: string, params: unknown[]): D1PreparedStatement => {
    const all = async <T>() => {
      const result = await stmt.all<T>();
      record(sql, params, result.meta);
      return result;
    };
    const wrapped = {
      bind: (...values: unknown[]) => wrapStatement(stmt.bind(...values), sql, values),
      all,
      run: async <T>() => {
        const result = await stmt.run<T>();
        record(sql, params, result.meta);
        return result;
      },
      first: async (column?: string) => {
        const row = (await all<Record<string, unknown>>()).results[0] ?? null;
        return column === undefined || row === null ? row : (row[column] ?? null);
      },
      raw: async (options?: { columnNames?: boolean }) => {
        const { results } = await all<Record<string, unknown>>();
        const rows = results.map((row) => Object.values(row));
        return options?.columnNames ? [Object.keys(results[0] ?? {}), ...rows] : rows;
      },
    };
    wrappedOf.set(wrapped, { stmt, sql, params });
    return wrapped as unknown as D1PreparedStatement;
  };

  const db = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrapStatement(target.prepare(sql), sql, []);
      if (prop === "batch") {
        return async (batch: D1PreparedStatement[]) => {
          const parts = batch.map((s) => wrappedOf.get(s) ?? { stmt: s, sql: "(not observed)", params: [] });
          const results = await target.batch(parts.map((p) => p.stmt));
          for (const [i, result] of results.entries()) record(parts[i]!.sql, parts[i]!.params, result.meta);
          return results;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, statements };
}

/** Rows written by the observed statements whose SQL matches `pattern` (all of them by default). */
export function rowsWritten(statements: readonly ObservedStatement[], pattern = /./): number {
  return statements.filter((s) => pattern.test(s.sql)).reduce((n, s) => n + s.rowsWritten, 0);
}
