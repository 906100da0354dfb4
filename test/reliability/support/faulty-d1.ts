import { env } from "cloudflare:workers";

const EXECUTE = new Set(["run", "all", "raw", "first"]);

/** Secret-looking text inside every injected error: it must never reach a response or a log. */
export const INJECTED_ERROR_TEXT = "whsec_should_never_leak";

/**
 * When an injected fault strikes a matching statement: `before` it runs (an outage: nothing is
 * written) or `after` it ran (the write committed but its answer was lost, as on a timeout).
 */
export type FaultTiming = "before" | "after";

/**
 * The real D1 binding, except that statements whose SQL matches `pattern` fail. Other statements
 * behave normally, so a test can break the ledger insert while reads and updates keep working.
 */
export function d1FailingOn(pattern: RegExp, timing: FaultTiming = "before", real: D1Database = env.DB): D1Database {
  const fault = () => new Error(`D1_ERROR: injected fault (contains ${INJECTED_ERROR_TEXT})`);
  const strike = async <T>(run: () => Promise<T>): Promise<T> => {
    if (timing === "after") await run();
    throw fault();
  };
  // Proxies of matching statements, mapped to the real ones the binding's batch() needs.
  const matching = new WeakMap<D1PreparedStatement, D1PreparedStatement>();
  const wrap = (stmt: D1PreparedStatement, query: string): D1PreparedStatement => {
    if (!pattern.test(query)) return stmt;
    const proxy: D1PreparedStatement = new Proxy(stmt, {
      get(target, prop) {
        if (typeof prop === "string" && EXECUTE.has(prop)) {
          return (...args: unknown[]) => strike(() => (Reflect.get(target, prop, target) as (...a: unknown[]) => Promise<unknown>).apply(target, args));
        }
        if (prop === "bind") return (...args: unknown[]) => wrap(target.bind(...args), query);
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    matching.set(proxy, stmt);
    return proxy;
  };
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") return (query: string) => wrap(target.prepare(query), query);
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          const real = statements.map((s) => matching.get(s) ?? s);
          if (real.every((s, i) => s === statements[i])) return target.batch(real);
          return strike(() => target.batch(real));
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
