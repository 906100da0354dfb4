// The load generator: `concurrency` keep-alive HTTP/1.1 connections, each sending the next
// pre-signed delivery as soon as its previous answer is read (a closed loop, like Stripe's
// per-endpoint delivery workers). Plain node:http, so every request and its latency is ours to
// see: autocannon rounds latencies to whole milliseconds, too coarse for 1–3 ms answers.
import http from "node:http";

/**
 * Sends every delivery once and returns throughput, latency percentiles (ms) and the answers.
 * `check(delivery, status, body)` returns an error string for an unexpected answer, else null.
 * When `signal` aborts, no further delivery is started (the crash test stops its load that way);
 * the figures then cover the deliveries that were sent.
 */
export async function runLoad({ url, deliveries, concurrency, check = () => null, onProgress, signal }) {
  const target = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(deliveries.length);
  const statuses = new Map();
  const errors = [];
  let failures = 0;
  let next = 0;
  let done = 0;

  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        if (signal?.aborted) return;
        const i = next++;
        if (i >= deliveries.length) return;
        const d = deliveries[i];
        const t0 = process.hrtime.bigint();
        // A connection error counts as status 0, an answer the check refuses.
        const { status, body } = await post(agent, target, d).catch((err) => ({ status: 0, body: String(err) }));
        latencies[i] = Number(process.hrtime.bigint() - t0) / 1e6;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        const problem = status === 0 ? `connection error: ${body}` : check(d, status, body);
        if (problem !== null) {
          failures++;
          if (errors.length < 10) errors.push(problem);
        }
        done++;
        if (onProgress && done % 1000 === 0) onProgress(done);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();

  const sent = Math.min(next, deliveries.length);
  const sorted = Array.from(latencies.subarray(0, sent)).sort((a, b) => a - b);
  return {
    count: sent,
    seconds,
    perSecond: sent / seconds,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    statuses: Object.fromEntries(statuses),
    failures,
    errors,
  };
}

function post(agent, target, delivery) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        headers: { ...delivery.headers, "Content-Length": Buffer.byteLength(delivery.body) },
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(delivery.body);
  });
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
