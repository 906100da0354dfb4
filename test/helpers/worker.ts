import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { createDeps, type Deps } from "../../src/deps";
import { Handlers } from "../../src/handlers/registry";
import deployed from "../../src/index";
import { createWorker } from "../../src/worker";

// The one way the tests call the Worker: its own fetch, queue and scheduled handlers, in-process (no
// network), each with an execution context whose waitUntil work is awaited before the helper returns.

/** The origin requests are sent to: the Worker never sees a real host. */
export const ORIGIN = "https://worker.example";

/** The queue names in wrangler.toml; the Worker tells the dead-letter queue apart by its `-dlq` suffix. */
export const EVENTS_QUEUE = "stripe-events";
export const DEAD_LETTER_QUEUE = "stripe-events-dlq";

/** A Worker built by `createWorker`, with the handlers and clock a test chose. */
export type TestWorker = ReturnType<typeof createWorker>;

/** Anything with the Worker's fetch signature: the deployed Worker, a `TestWorker`, a Hono app. */
export interface FetchTarget {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Response | Promise<Response>;
}

export interface CallOptions extends RequestInit {
  /** The bindings and variables; the test environment by default. */
  env?: Env;
  /** What answers; the deployed Worker (src/index.ts) by default. */
  worker?: FetchTarget;
  /** Sent as CF-Connecting-IP, as Cloudflare sends the client's address; none by default. */
  clientIp?: string;
}

/**
 * Sends a request through a Worker's fetch handler and waits for everything it left in waitUntil
 * (a delivery's queue send) before returning. `target` is a path (appended to ORIGIN as it is) or a whole Request; a
 * GET or HEAD is sent without the body (a Request cannot carry one).
 *
 * @example
 * const response = await callWorker("/health", { env: envWith({ D1_MAX_BYTES: "1000" }) });
 */
export async function callWorker(target: string | Request, options: CallOptions = {}): Promise<Response> {
  const { env: testEnv = env, worker = deployed, clientIp, body, ...init } = options;
  const headers = new Headers(init.headers ?? (typeof target === "string" ? undefined : target.headers));
  if (clientIp !== undefined) headers.set("cf-connecting-ip", clientIp);
  const method = (init.method ?? (typeof target === "string" ? "GET" : target.method)).toUpperCase();
  const withBody = method === "GET" || method === "HEAD" || body === undefined ? {} : { body };
  const request = new Request(typeof target === "string" ? `${ORIGIN}${target}` : target, { ...init, headers, ...withBody });
  const ctx = createExecutionContext();
  const response = await worker.fetch(request, testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/**
 * The dependencies one invocation of the Worker gets (src/deps.ts), for calling a job or a service
 * directly: the test environment, no handlers and the real clock unless given (a number is a fixed clock).
 *
 * @example
 * await recoverMissedEvents(testDeps({ env: keyed, handlers: defaultHandlers(), now: Date.now() + 60_000 }));
 */
export function testDeps(options: { env?: Env; handlers?: Handlers; now?: number | (() => number) } = {}): Deps {
  const { now } = options;
  return createDeps(options.env ?? env, {
    handlers: options.handlers ?? new Handlers(),
    now: typeof now === "number" ? () => now : (now ?? Date.now),
  });
}

/** An ADMIN_TOKEN the health helper adds to its environment (32 characters or more, as the Worker requires). */
const HEALTH_ADMIN_TOKEN = "admin-token-for-the-health-report-helper";

/**
 * The operator's health report (`GET /admin/api/health`, with an ADMIN_TOKEN added to the
 * environment): its HTTP status, parsed body (`ok`, `code`, `checks`) and text.
 */
export async function getHealth(testEnv: Env = env): Promise<{ status: number; body: any; text: string }> {
  const response = await callWorker("/admin/api/health", {
    env: { ...testEnv, ADMIN_TOKEN: HEALTH_ADMIN_TOKEN },
    headers: { authorization: `Bearer ${HEALTH_ADMIN_TOKEN}` },
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

/** `GET /health`, what anyone sees: its status and parsed body. */
export async function getPublicHealth(testEnv: Env = env): Promise<{ status: number; body: any }> {
  const response = await callWorker("/health", { env: testEnv });
  return { status: response.status, body: await response.json() };
}

export interface BatchOptions {
  /** The queue the batch comes from; EVENTS_QUEUE by default. */
  queue?: string;
  /** The Worker whose queue handler runs; by default one built with `handlers` and `now`. */
  worker?: TestWorker;
  /** The handlers of the default Worker; none by default. */
  handlers?: Handlers;
  /** The default Worker's clock. */
  now?: () => number;
  env?: Env;
  /** Deliveries of each message so far, this one included, as Cloudflare Queues counts them. */
  attempts?: number;
}

/** What the consumer did with each message of a batch, by the message's label (see `runBatch`). */
export interface BatchOutcome {
  acked: string[];
  /** With the delay the consumer asked for. */
  retried: { id: string; delaySeconds: number | undefined }[];
  /** The runtime's account of the invocation: "ok" unless the queue handler threw. */
  outcome: string;
}

let nextMessage = 0;

/**
 * Hands one batch to a Worker's queue handler, as Cloudflare Queues would after `attempts - 1` earlier
 * deliveries, and reports which messages it acked and which it retried, in batch order. A string is
 * an event id, sent as the message `{ id }` and reported by that id; `{ body }` is sent as it is (a
 * message that is not an event message) and reported as `body #<position>`. getQueueResult does not
 * report retry delays, so each message's retry() is observed (and still runs).
 *
 * @example
 * const { acked, retried } = await runBatch([event.id], { handlers: billingHandlers() });
 */
export async function runBatch(messages: readonly (string | { body: unknown })[], options: BatchOptions = {}): Promise<BatchOutcome> {
  const { queue = EVENTS_QUEUE, attempts = 1, env: testEnv = env } = options;
  const worker =
    options.worker ?? createWorker({ handlers: options.handlers ?? new Handlers(), ...(options.now ? { now: options.now } : {}) });
  const labels = messages.map((m, i) => (typeof m === "string" ? m : `body #${i}`));
  const sent = messages.map((m) => ({
    id: `test-msg-${++nextMessage}`,
    timestamp: new Date(),
    attempts,
    body: typeof m === "string" ? { id: m } : m.body,
  }));
  const batch = createMessageBatch(queue, sent);
  const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv);
  const result = await getQueueResult(batch, ctx);
  const position = (msgId: string) => sent.findIndex((m) => m.id === msgId);
  const inOrder = (ids: readonly string[]) => ids.map(position).sort((a, b) => a - b);
  const retried = new Map(
    result.retryMessages.map(({ msgId }) => [position(msgId), retries[position(msgId)]!.mock.calls[0]?.[0]?.delaySeconds]),
  );
  return {
    acked: inOrder(result.explicitAcks).map((i) => labels[i]!),
    retried: [...retried.keys()].sort((a, b) => a - b).map((i) => ({ id: labels[i]!, delaySeconds: retried.get(i) })),
    outcome: result.outcome,
  };
}

/**
 * Runs the cron trigger of a Worker whose clock reads `nowMs` and waits for every job it started.
 * The Worker has no handlers unless given (the re-drive and the recovery do not run them).
 *
 * @example
 * await runCron(Date.now() + 10 * 60_000, { env: envWith({ EVENTS_QUEUE: queue }) });
 */
export async function runCron(nowMs: number, options: { env?: Env; handlers?: Handlers } = {}): Promise<void> {
  const worker = createWorker({ handlers: options.handlers ?? new Handlers(), now: () => nowMs });
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: nowMs, cron: "* * * * *" }), options.env ?? env, ctx);
  await waitOnExecutionContext(ctx);
}
