// Found by the reliability suite: a second t= entry hid a future timestamp from our check, and
// signed events with odd ledger fields were answered 500 storage_unavailable.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Handlers } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";
import { deliver, TEST_SECRET } from "../helpers/deliver";
import { newEventId } from "../helpers/events";
import { envWith, failingQueue } from "../helpers/faults";
import { propertyRuns, propertyTimeout } from "../helpers/property-runs";
import { expectErrorEnvelope, expectReceipt } from "../helpers/responses";
import { signedDelivery } from "../helpers/signed";

const NOW_MS = Date.now();
const NOW_S = Math.floor(NOW_MS / 1000);
const worker = createWorker({ handlers: new Handlers(), now: () => NOW_MS });
const testEnv = envWith({ EVENTS_QUEUE: failingQueue() });

describe("signature timestamps stated more than once", () => {
  it(
    "rejects a signature made outside the tolerance whatever other t= entries the header carries",
    async () => {
      const otherT = fc.oneof(
        fc.constant(`t=${NOW_S}`),
        fc.constantFrom("x", " ", ".5", "abc", "e3").map((junk) => ({ junk })),
        fc.constantFrom(" ", "+", "0").map((prefix) => ({ prefix })),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.integer({ min: 301, max: 100_000 }), fc.integer({ min: -100_000, max: -301 })),
          fc.array(otherT, { minLength: 1, maxLength: 3 }),
          async (offset, others) => {
            const delivery = await signedDelivery(NOW_S + offset);
            const extra = others.map((o) =>
              typeof o === "string" ? o : "junk" in o ? `t=${delivery.timestamp}${o.junk}` : `t=${o.prefix}${delivery.timestamp}`,
            );
            const header = [...extra, `t=${delivery.timestamp}`, `v1=${delivery.signature}`].join(",");
            const header2 = [`t=${NOW_S}`, `v1=${delivery.signature}`, ...extra].join(",");
            for (const h of [header, header2]) {
              const response = await deliver(delivery.payload, { signature: h, worker, env: testEnv });
              expect(response.status, h).toBe(400);
              await expectErrorEnvelope(response, [TEST_SECRET]);
            }
          },
        ),
        { numRuns: propertyRuns() },
      );
    },
    propertyTimeout(),
  );

  it("rejects a genuine signature made an hour ahead when a fresh t= precedes a t= with trailing junk", async () => {
    const delivery = await signedDelivery(NOW_S + 3600);
    const response = await deliver(delivery.payload, {
      signature: `t=${NOW_S},t=${delivery.timestamp}x,v1=${delivery.signature}`,
      worker,
      env: testEnv,
    });
    expect(await expectErrorEnvelope(response)).toBe("timestamp_out_of_tolerance");
  });
});

describe("signed events with unusual ledger fields", () => {
  const field = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.string({ maxLength: 10 }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.jsonValue({ maxDepth: 2 }),
  );
  it(
    "never answers 5xx to a signed event, whatever type its created, livemode, api_version or account has",
    async () => {
      await fc.assert(
        fc.asyncProperty(field, field, field, field, async (created, livemode, apiVersion, account) => {
          const event: Record<string, unknown> & { id: string } = {
            id: newEventId(),
            object: "event",
            type: "invoice.paid",
            data: { object: {} },
          };
          for (const [k, v] of Object.entries({ created, livemode, api_version: apiVersion, account })) if (v !== undefined) event[k] = v;
          const body = JSON.stringify(event);
          const response = await deliver(body, { timestamp: NOW_S, worker, env: testEnv });
          expect(response.status, body).toBeLessThan(500);
          if (response.status === 200) await expectReceipt(response, event.id);
          else expect(await expectErrorEnvelope(response)).toBe("payload_invalid");
        }),
        { numRuns: propertyRuns() },
      );
    },
    propertyTimeout(),
  );

  it.each([
    ["without created", {}],
    ["with created null", { created: null }],
    ["with an object as account", { created: 1700000000, account: {} }],
  ])("does not answer 500 storage_unavailable to a signed event %s", async (_name, fields) => {
    const body = JSON.stringify({ id: newEventId(), object: "event", type: "invoice.paid", data: { object: {} }, ...fields });
    const response = await deliver(body, { timestamp: NOW_S, worker, env: testEnv });
    expect(response.status).toBeLessThan(500);
  });
});
