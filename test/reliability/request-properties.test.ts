import { env } from "cloudflare:workers";
import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { Handlers } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";
import { anyBody, extraHeaders, forgedSignatureHeader, headerValue } from "../helpers/arbitraries";
import { stripeHeaders, TEST_SECRET } from "../helpers/deliver";
import { envWith, heldQueue } from "../helpers/faults";
import { captureLogs, expectCleanLogs } from "../helpers/logs";
import { propertyRuns, propertyTimeout } from "../helpers/property-runs";
import { expectErrorEnvelope } from "../helpers/responses";
import { callWorker } from "../helpers/worker";

const NOW_MS = Date.now();
const NOW_S = Math.floor(NOW_MS / 1000);
const worker = createWorker({ handlers: new Handlers(), now: () => NOW_MS });
const { queue, sent } = heldQueue();
const testEnv = envWith({ EVENTS_QUEUE: queue });
let logs: string[] = [];
beforeEach(() => {
  logs = captureLogs();
});
async function storedEvents(): Promise<number> {
  return (await env.DB.prepare("SELECT COUNT(*) AS n FROM stripe_events").first<{ n: number }>())!.n;
}

/** Stripe's usual delivery headers or none, then arbitrary extras, then an optional forged signature. */
const requestHeaders = fc
  .record({ stripeDefaults: fc.boolean(), extras: extraHeaders, signature: fc.option(forgedSignatureHeader(NOW_S), { nil: undefined }) })
  .map(({ stripeDefaults, extras, signature }) => {
    const headers = stripeDefaults ? stripeHeaders(null) : new Headers();
    for (const [name, value] of extras) headers.append(name, value);
    if (signature !== undefined) headers.set("Stripe-Signature", signature);
    return headers;
  });

describe("POST /webhooks/stripe without a genuine signature", () => {
  it(
    "never accepts, never answers 5xx, always answers the error envelope, and records and enqueues nothing",
    async () => {
      const before = await storedEvents();
      await fc.assert(
        fc.asyncProperty(requestHeaders, anyBody, async (headers, body) => {
          const response = await callWorker("/webhooks/stripe", { worker, method: "POST", headers, body, env: testEnv });
          expect(response.status).toBeGreaterThanOrEqual(400);
          expect(response.status).toBeLessThan(500);
          await expectErrorEnvelope(response, [TEST_SECRET]);
        }),
        { numRuns: propertyRuns() },
      );
      expect(await storedEvents()).toBe(before);
      expect(sent).toEqual([]);
      expectCleanLogs(logs, [TEST_SECRET]);
    },
    propertyTimeout(),
  );
});

describe("any method on any path", () => {
  const methods = fc.constantFrom("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
  const paths = fc.oneof(
    fc.constantFrom(
      "/",
      "/webhooks",
      "/webhooks/stripe",
      "/webhooks/stripe/",
      "/WEBHOOKS/STRIPE",
      "/webhooks/stripe?x=1",
      "/health",
      "/health/",
    ),
    fc.webPath(),
  );
  const isHealth = (method: string, path: string) => (method === "GET" || method === "HEAD") && /^\/health(\?|$)/.test(path);

  it(
    "answers 2xx only for the health check, never 5xx, and the error envelope for everything else",
    async () => {
      await fc.assert(
        fc.asyncProperty(methods, paths, headerValue, async (method, path, body) => {
          const response = await callWorker(path, {
            worker,
            method,
            body,
            headers: stripeHeaders(`t=${NOW_S},v1=${"0".repeat(64)}`),
            env: testEnv,
          });
          expect(response.status).toBeLessThan(500);
          if (isHealth(method, path)) {
            expect(response.status).toBe(200);
            return;
          }
          expect(response.status).toBeGreaterThanOrEqual(400);
          if (method !== "HEAD") await expectErrorEnvelope(response, [TEST_SECRET]);
        }),
        { numRuns: propertyRuns() },
      );
      expectCleanLogs(logs, [TEST_SECRET]);
    },
    propertyTimeout(),
  );
});
