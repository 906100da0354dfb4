// A local stand-in for the Stripe API that enforces a rate limit the way Stripe does (429
// `rate_limit_error`), for `npm run bench:rate`. It runs in a child process of its own: the parent
// also posts thousands of deliveries, and a busy event loop there would let requests queue up and
// then be stamped all at once, which would make a well-behaved client look like a burst.
//
// - GET /v1/subscriptions/<id> answers Stripe's example subscription (test/fixtures) with that id;
//   GET of any other v1 list (`/v1/events`, `/v1/webhook_endpoints`: the cron's recovery and drift
//   check) an empty list; GET /v2/core/events an empty v2 page; anything else Stripe's 404.
// - Every request's arrival counts in a sliding window of `windowMs`: a request that makes more than
//   `limit` arrive within it (itself included) is answered 429 with Retry-After: 1, whatever its path.
//   429s count as arrivals too, so the peak is what the API saw, not what it served.
//
// Parent side: `startLimitedStripeApi({ limit })` → { base, stats(), stop() }. Child side: this file
// run by `fork`, which sends { base } once listening and answers { op: "stats" } with the figures.
import { fork } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const SELF = fileURLToPath(import.meta.url);

/**
 * Starts the fake in a child process on 127.0.0.1 (an OS-assigned port). `stats()` resolves to
 * { total, byStatus, byRoute, peak, peakAtMs, arrivals: [{ at (epoch ms), status, path }] }; `stop()` ends
 * the child. The child also exits by itself when the parent goes away (its IPC channel closes).
 */
export async function startLimitedStripeApi({ limit, windowMs = 1000 }) {
  const child = fork(SELF, ["--serve", JSON.stringify({ limit, windowMs })], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const { base } = await new Promise((resolve, reject) => {
    child.once("message", resolve);
    child.once("exit", (code) => reject(new Error(`the fake Stripe API exited with ${code} before listening`)));
  });
  let nextId = 1;
  const pending = new Map();
  child.on("message", (msg) => {
    pending.get(msg.id)?.(msg.stats);
    pending.delete(msg.id);
  });
  return {
    base,
    stats: () =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, resolve);
        child.send({ id, op: "stats" });
      }),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

function serve({ limit, windowMs }) {
  const subscription = JSON.parse(readFileSync(new URL("../../test/fixtures/stripe-objects/subscription.json", import.meta.url), "utf8"));
  // Arrival times from the monotonic clock (a wall-clock step must not open or close the window),
  // reported as epoch ms so the parent can set them against its own timings.
  const arrivals = [];
  const statuses = [];
  const paths = [];
  const byRoute = {};
  let inWindowFrom = 0; // index of the oldest arrival still inside the window
  let peak = 0;
  let peakAt = null;

  const server = createServer((req, res) => {
    const now = performance.now();
    arrivals.push(now);
    while (arrivals[inWindowFrom] <= now - windowMs) inWindowFrom++;
    const inWindow = arrivals.length - inWindowFrom;
    if (inWindow > peak) {
      peak = inWindow;
      peakAt = now;
    }
    const path = new URL(req.url, "http://127.0.0.1").pathname;
    paths.push(path);
    const route = routeOf(req.method, path);
    byRoute[route] = (byRoute[route] ?? 0) + 1;
    const send = (status, body, headers = {}) => {
      statuses.push(status);
      res.writeHead(status, { "content-type": "application/json", "request-id": `req_rate_${arrivals.length}`, ...headers });
      res.end(JSON.stringify(body));
    };
    // Drain the (empty) body so keep-alive connections stay usable.
    req.resume();
    if (inWindow > limit) {
      return send(
        429,
        {
          error: {
            type: "rate_limit_error",
            code: "rate_limit",
            message: `Request rate limit exceeded: this fake allows ${limit} requests in any ${windowMs} ms.`,
          },
        },
        { "retry-after": "1" },
      );
    }
    if (route === "GET /v1/subscriptions/:id") return send(200, { ...subscription, id: decodeURIComponent(path.split("/")[3]) });
    if (route === "GET /v2/core/events") return send(200, { data: [], next_page_url: null, previous_page_url: null });
    if (route === "GET /v1/<list>") return send(200, { object: "list", url: path, has_more: false, data: [] });
    return send(404, {
      error: { type: "invalid_request_error", code: "resource_missing", message: `Unrecognized request URL (${req.method}: ${path}).` },
    });
  });

  server.keepAliveTimeout = 60_000;
  server.listen(0, "127.0.0.1", () => process.send({ base: `http://127.0.0.1:${server.address().port}` }));
  process.on("message", (msg) => {
    if (msg.op !== "stats") return;
    const toEpoch = (t) => performance.timeOrigin + t;
    const byStatus = {};
    for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1;
    process.send({
      id: msg.id,
      stats: {
        total: arrivals.length,
        byStatus,
        byRoute,
        peak,
        peakAtMs: peakAt === null ? null : toEpoch(peakAt),
        arrivals: arrivals.map((t, i) => ({ at: toEpoch(t), status: statuses[i] ?? 0, path: paths[i] })),
      },
    });
  });
  // The parent went away (finished, or died without stopping us): nothing left to serve.
  process.on("disconnect", () => process.exit(0));
  process.on("SIGTERM", () => process.exit(0));
}

/** The request's route, by the shapes this fake tells apart (for the counts per route). */
function routeOf(method, path) {
  if (method === "GET" && /^\/v1\/subscriptions\/[^/]+$/.test(path)) return "GET /v1/subscriptions/:id";
  if (method === "GET" && path === "/v2/core/events") return "GET /v2/core/events";
  if (method === "GET" && /^\/v1\/[a-z_]+$/.test(path)) return "GET /v1/<list>";
  return `${method} other`;
}

if (process.argv[1] === SELF && process.argv[2] === "--serve") serve(JSON.parse(process.argv[3]));
