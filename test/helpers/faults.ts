import { env } from "cloudflare:workers";

/**
 * Fault injection around the real bindings: the wrapped binding behaves like the real one except
 * for the calls made to fail. Nothing here replaces the Worker's own modules.
 */

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

/** The real D1 binding, except that every statement fails when executed (as during a D1 outage). */
export function failingD1(real: D1Database = env.DB): D1Database {
  const outage = () => Promise.reject(new Error("D1_ERROR: injected outage (contains whsec_should_never_leak)"));
  const wrapStatement = (stmt: D1PreparedStatement): D1PreparedStatement =>
    wrap(stmt, (target, prop) => {
      if (typeof prop === "string" && D1_EXECUTE.has(prop)) return outage;
      if (prop === "bind") return (...args: unknown[]) => wrapStatement(target.bind(...args));
      return undefined;
    });
  return wrap(real, (target, prop) => {
    if (prop === "prepare") return (query: string) => wrapStatement(target.prepare(query));
    if (prop === "batch" || prop === "exec") return outage;
    return undefined;
  });
}

/** The real queue binding, except that `send` and `sendBatch` reject. */
export function failingQueue(real: Queue = env.EVENTS_QUEUE): Queue {
  return wrap(real, (_target, prop) => (prop === "send" || prop === "sendBatch" ? () => Promise.reject(new Error("injected queue outage")) : undefined));
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

/** `env` with some bindings or variables replaced. */
export function envWith(overrides: Partial<Env>): Env {
  return { ...env, ...overrides } as Env;
}
