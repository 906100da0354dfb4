import { env } from "cloudflare:workers";

/**
 * Fault injection around the real bindings: a wrapped binding behaves like the real one except for
 * the calls made to fail. Nothing here replaces the Worker's own modules.
 */

/** Secret-looking text inside every injected error: it must never reach a response or a log. */
export const INJECTED_ERROR_TEXT = "whsec_should_never_leak";

/**
 * When an injected fault strikes a matching statement: `before` it runs (an outage: nothing is
 * written) or `after` it ran (the write committed but its answer was lost, as on a timeout).
 */
export type FaultTiming = "before" | "after";

const D1_EXECUTE = new Set(["run", "all", "raw", "first"]);

/** A proxy of a real binding: `override` may answer a property; anything else is the real one's. */
function wrap<T extends object>(real: T, override: (target: T, prop: string | symbol) => unknown): T {
  return new Proxy(real, {
    get(target, prop) {
      const replaced = override(target, prop);
      if (replaced !== undefined) return replaced;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/**
 * The real D1 binding, except that statements whose SQL matches `pattern` fail (a batch fails when
 * any of its statements matches). Other statements behave normally, so a test can break the ledger
 * insert while reads and updates keep working.
 *
 * @example
 * const outage = envWith({ DB: d1FailingOn(/^insert into "stripe_events"/i) });
 */
export function d1FailingOn(pattern: RegExp, timing: FaultTiming = "before", real: D1Database = env.DB): D1Database {
  const fault = () => new Error(`D1_ERROR: injected fault (contains ${INJECTED_ERROR_TEXT})`);
  const strike = async <T>(run: () => Promise<T>): Promise<T> => {
    if (timing === "after") await run();
    throw fault();
  };
  // Proxies of matching statements, mapped to the real ones the binding's batch() needs.
  const matching = new WeakMap<D1PreparedStatement, D1PreparedStatement>();
  const wrapStatement = (stmt: D1PreparedStatement, query: string): D1PreparedStatement => {
    if (!pattern.test(query)) return stmt;
    const proxy = wrap(stmt, (target, prop) => {
      if (typeof prop === "string" && D1_EXECUTE.has(prop)) {
        return (...args: unknown[]) =>
          strike(() => (Reflect.get(target, prop, target) as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      }
      if (prop === "bind") return (...args: unknown[]) => wrapStatement(target.bind(...args), query);
      return undefined;
    });
    matching.set(proxy, stmt);
    return proxy;
  };
  return wrap(real, (target, prop) => {
    if (prop === "prepare") return (query: string) => wrapStatement(target.prepare(query), query);
    if (prop === "batch") {
      return (statements: D1PreparedStatement[]) => {
        const unwrapped = statements.map((s) => matching.get(s) ?? s);
        if (unwrapped.every((s, i) => s === statements[i])) return target.batch(unwrapped);
        return strike(() => target.batch(unwrapped));
      };
    }
    if (prop === "exec") return () => Promise.reject(fault());
    return undefined;
  });
}

/** The real D1 binding, except that every statement fails before it runs (as during a D1 outage). */
export function failingD1(real: D1Database = env.DB): D1Database {
  return d1FailingOn(/(?:)/, "before", real);
}

/** The real queue binding, except that `send` and `sendBatch` reject. */
export function failingQueue(real: Queue = env.EVENTS_QUEUE): Queue {
  return wrap(real, (_target, prop) =>
    prop === "send" || prop === "sendBatch" ? () => Promise.reject(new Error("injected queue outage")) : undefined,
  );
}

/**
 * The real queue binding, counting the event ids sent through it; with `delaySeconds`, every
 * message is also delayed by that much.
 */
export function countingQueue(real: Queue = env.EVENTS_QUEUE, delaySeconds?: number): { queue: Queue; sent: string[] } {
  const sent: string[] = [];
  const delay = delaySeconds === undefined ? {} : { delaySeconds };
  const queue = wrap(real, (target, prop) => {
    if (prop === "send") {
      return (body: { id: string }, options?: QueueSendOptions) => {
        sent.push(body.id);
        return target.send(body, { ...options, ...delay });
      };
    }
    if (prop === "sendBatch") {
      return (messages: Iterable<MessageSendRequest<{ id: string }>>, options?: QueueSendBatchOptions) => {
        const list = [...messages].map((m) => ({ ...m, ...delay }));
        for (const m of list) sent.push(m.body.id);
        return target.sendBatch(list, { ...options, ...delay });
      };
    }
    return undefined;
  });
  return { queue, sent };
}

/** The longest delay Cloudflare Queues accepts for a message (12 hours). */
const HOLD_SECONDS = 43_200;

/**
 * The real queue binding, with every message sent delayed past the end of the test run and its
 * event id recorded. The Worker's own consumer runs the deployed handlers, so it must not pick
 * these messages up: the test hands them, through `runBatch`, to a Worker built with the handlers
 * it counts side effects with.
 */
export function heldQueue(real: Queue = env.EVENTS_QUEUE): { queue: Queue; sent: string[] } {
  return countingQueue(real, HOLD_SECONDS);
}

/** `env` with some bindings or variables replaced. */
export function envWith(overrides: Partial<Env>): Env {
  return { ...env, ...overrides } as Env;
}

/** Which R2 call a fault strikes, and how many of them pass before it does. */
export interface R2Fault {
  /** `put` of a part or a manifest (matched on its key), or `delete`. */
  call: "put" | "delete";
  /** Keys the fault strikes (all of the call's by default). */
  key?: RegExp;
  /** `before`: nothing is stored (an outage); `after`: stored, then the answer is lost (the cron killed or timed out). */
  timing: FaultTiming;
  /** Matching calls that succeed before the first that fails. */
  after?: number;
  /** Matching calls that fail, from then on (every one by default). */
  times?: number;
}

/**
 * The real R2 binding (the archive), except the calls `fault` names, which throw as an outage or a
 * killed invocation would. `calls` records every put and delete with its key, in order.
 *
 * @example
 * const { bucket } = r2FailingOn({ call: "put", key: /part-/, timing: "after" });
 * await pruneLedger(testDeps({ env: envWith({ ARCHIVE: bucket }) }));
 */
export function r2FailingOn(fault: R2Fault, real: R2Bucket = env.ARCHIVE): { bucket: R2Bucket; calls: { call: string; key: string }[] } {
  const calls: { call: string; key: string }[] = [];
  let passed = 0;
  let failed = 0;
  const strikes = (key: string) => {
    if (fault.key && !fault.key.test(key)) return false;
    if (passed < (fault.after ?? 0)) {
      passed++;
      return false;
    }
    if (failed >= (fault.times ?? Number.POSITIVE_INFINITY)) return false;
    failed++;
    return true;
  };
  const run = async <T>(key: string, call: () => Promise<T>): Promise<T> => {
    if (!strikes(key)) return call();
    if (fault.timing === "after") await call();
    throw new Error(`R2 injected fault on ${fault.call} ${key}`);
  };
  const bucket = wrap(real, (target, prop) => {
    if (prop === "put" && fault.call === "put")
      return (key: string, ...rest: unknown[]) => {
        calls.push({ call: "put", key });
        return run(key, () => (target.put as (...a: unknown[]) => Promise<unknown>)(key, ...rest));
      };
    if (prop === "delete" && fault.call === "delete")
      return (keys: string | string[]) => {
        for (const key of [keys].flat()) calls.push({ call: "delete", key });
        return run([keys].flat().join(","), () => target.delete(keys));
      };
    return undefined;
  });
  return { bucket, calls };
}
