// Wraps the deployed bundle (./index.js, copied next to this file) to count what it asks of its
// bindings, without changing what it does: D1 statements (with their SQL text), round trips and the
// rows D1 reports read and written; Queue messages sent, delivered, acked and retried; R2 operations
// on the archive by class (A: put, list; B: get, head; deletes are free) and bytes put. Used only by
// the counting run, never by the timed runs.
//   GET /__bench/counts → the totals so far.
//
// Phases: "ack" = the request's own work that the answer waits for; "after_ack" = work handed to
// ctx.waitUntil; "consumer" = the queue handler; "cron" = the scheduled handler. An op belongs to
// waitUntil when it starts after the answer, or when it starts in the same synchronous turn as a
// ctx.waitUntil(...) call (the argument of waitUntil is evaluated, and its first binding call made,
// just before the call).
import worker from "./index.js";

// The Durable Object class the Worker binds (STRIPE_API_BUDGET), exported from the wrapper as from the Worker.
export { StripeApiBudget } from "./index.js";

const PHASES = ["ack", "after_ack", "consumer", "cron"];
const totals = {};
for (const phase of PHASES) {
  // `statements`: per SQL text, what D1 reported for it; the bench classifies the SQL (bench/lib/statements.mjs).
  totals[phase] = {
    d1_statements: 0,
    d1_round_trips: 0,
    d1_rows_read: 0,
    d1_rows_written: 0,
    queue_messages_sent: 0,
    queue_send_calls: 0,
    queue_messages_delivered: 0,
    queue_acks: 0,
    queue_retries: 0,
    r2_class_a: 0,
    r2_class_b: 0,
    r2_deletes: 0,
    r2_bytes_put: 0,
    statements: {},
  };
}

export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname === "/__bench/counts") return Response.json(totals);
    const phase = { name: "ack" };
    const wrappedCtx = {
      waitUntil(promise) {
        for (const op of turnOps) op.phase = "after_ack";
        return ctx.waitUntil(promise);
      },
      passThroughOnException: () => ctx.passThroughOnException(),
      props: ctx.props,
    };
    const response = await worker.fetch(request, wrapEnv(env, phase), wrappedCtx);
    phase.name = "after_ack"; // whatever this request still does runs in waitUntil
    return response;
  },
  async queue(batch, env, ctx) {
    const phase = { name: "consumer" };
    totals.consumer.queue_messages_delivered += batch.messages.length;
    for (const message of batch.messages) {
      const { ack, retry } = message;
      message.ack = (...a) => {
        totals.consumer.queue_acks++;
        return ack.apply(message, a);
      };
      message.retry = (...a) => {
        totals.consumer.queue_retries++;
        return retry.apply(message, a);
      };
    }
    return worker.queue(batch, wrapEnv(env, phase), ctx);
  },
  async scheduled(controller, env, ctx) {
    // The cron's jobs run in waitUntil; awaiting them here means the run is over, and its counts
    // complete, when the scheduled event reports back.
    const pending = [];
    const wrappedCtx = {
      waitUntil: (promise) => void pending.push(promise),
      passThroughOnException: () => ctx.passThroughOnException(),
      props: ctx.props,
    };
    await worker.scheduled(controller, wrapEnv(env, { name: "cron" }), wrappedCtx);
    await Promise.allSettled(pending);
  },
};

// Binding calls started in the current synchronous turn (cleared at the next microtask checkpoint).
let turnOps = [];
let clearScheduled = false;
function startOp(phase) {
  const op = { phase: phase.name };
  turnOps.push(op);
  if (!clearScheduled) {
    clearScheduled = true;
    queueMicrotask(() => {
      turnOps = [];
      clearScheduled = false;
    });
  }
  return op;
}

function wrapEnv(env, phase) {
  const archive = env.ARCHIVE ? { ARCHIVE: wrapR2(env.ARCHIVE, phase) } : {};
  return { ...env, DB: wrapD1(env.DB, phase), EVENTS_QUEUE: wrapQueue(env.EVENTS_QUEUE, phase), ...archive };
}

/** The archive's bucket, counting each call by R2's price class (https://developers.cloudflare.com/r2/pricing/). */
function wrapR2(bucket, phase) {
  const count = (key, n = 1) => {
    totals[phase.name][key] += n;
  };
  return {
    async put(key, value, options) {
      count("r2_class_a");
      count("r2_bytes_put", value?.byteLength ?? (typeof value === "string" ? new TextEncoder().encode(value).byteLength : 0));
      return bucket.put(key, value, options);
    },
    async list(options) {
      count("r2_class_a");
      return bucket.list(options);
    },
    async get(key, options) {
      count("r2_class_b");
      return bucket.get(key, options);
    },
    async head(key) {
      count("r2_class_b");
      return bucket.head(key);
    },
    async delete(keys) {
      count("r2_deletes", [keys].flat().length);
      return bucket.delete(keys);
    },
  };
}

/** One round trip of `runs`: [{ sql, result }], where `result` is D1's answer for that statement. */
function record(op, runs) {
  const t = totals[op.phase];
  t.d1_round_trips++;
  for (const { sql, result } of runs) {
    const meta = result?.meta ?? {};
    t.statements[sql] ??= { count: 0, rows_read: 0, rows_written: 0, rows_returned: 0 };
    const s = t.statements[sql];
    t.d1_statements++;
    s.count++;
    for (const [key, value] of [
      ["rows_read", meta.rows_read],
      ["rows_written", meta.rows_written],
    ]) {
      t[`d1_${key}`] += value ?? 0;
      s[key] += value ?? 0;
    }
    s.rows_returned += result?.results?.length ?? 0;
  }
}

function wrapD1(db, phase) {
  // first() and raw() are served from all() so that D1's meta (rows read/written) is visible; the
  // statements here are single-table, so the row values and their order are unchanged.
  const wrapStatement = (stmt, sql) => ({
    real: stmt,
    sql,
    bind: (...args) => wrapStatement(stmt.bind(...args), sql),
    async all() {
      const op = startOp(phase);
      const result = await stmt.all();
      record(op, [{ sql, result }]);
      return result;
    },
    async run() {
      const op = startOp(phase);
      const result = await stmt.run();
      record(op, [{ sql, result }]);
      return result;
    },
    async first(column) {
      const { results } = await this.all();
      const row = results[0] ?? null;
      return column === undefined || row === null ? row : (row[column] ?? null);
    },
    async raw(options) {
      const { results } = await this.all();
      const rows = results.map((row) => Object.values(row));
      return options?.columnNames ? [Object.keys(results[0] ?? {}), ...rows] : rows;
    },
  });
  return {
    prepare: (sql) => wrapStatement(db.prepare(sql), sql),
    async batch(statements) {
      const op = startOp(phase);
      const results = await db.batch(statements.map((s) => s.real));
      record(
        op,
        statements.map((s, i) => ({ sql: s.sql, result: results[i] })),
      );
      return results;
    },
    async exec(sql) {
      const op = startOp(phase);
      const result = await db.exec(sql);
      // exec reports no meta per statement, only how many it ran.
      record(
        op,
        Array.from({ length: result.count ?? 1 }, () => ({ sql, result: null })),
      );
      return result;
    },
    withSession: () => wrapD1(db, phase),
    dump: () => db.dump(),
  };
}

function wrapQueue(queue, phase) {
  return {
    async send(body, options) {
      const op = startOp(phase);
      const result = await queue.send(body, options);
      totals[op.phase].queue_send_calls++;
      totals[op.phase].queue_messages_sent++;
      return result;
    },
    async sendBatch(messages, options) {
      const op = startOp(phase);
      const result = await queue.sendBatch(messages, options);
      totals[op.phase].queue_send_calls++;
      totals[op.phase].queue_messages_sent += messages.length;
      return result;
    },
  };
}
