import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { Handlers } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";
import { hex } from "../helpers/arbitraries";
import { deliver, TEST_SECRET } from "../helpers/deliver";
import { envWith, failingQueue } from "../helpers/faults";
import { storedIds } from "../helpers/ledger";
import { captureLogs, expectCleanLogs } from "../helpers/logs";
import { propertyRuns, propertyTimeout } from "../helpers/property-runs";
import { expectErrorEnvelope, expectReceipt } from "../helpers/responses";
import { signedDelivery } from "../helpers/signed";

const BASE_MS = Date.now() - (Date.now() % 1000);
const BASE_S = BASE_MS / 1000;
const handlers = new Handlers();
// The enqueue runs after the answer (in waitUntil) and has its own tests in fault-chains; here the
// queue refuses every send, so each of thousands of acceptances costs one D1 write and no more.
const queue = failingQueue();
let logs: string[] = [];
beforeEach(() => {
  logs = captureLogs();
});
/** Header entries Stripe's scheme tells a receiver to ignore, or that carry signatures under other secrets. */
const noise = fc.oneof(
  hex(64).map((h) => `v0=${h}`),
  hex(64).map((h) => `v1=${h}`),
  fc.stringMatching(/^[a-z][a-z0-9]{0,5}=[0-9a-f]{0,16}$/).filter((entry) => !entry.startsWith("t=")),
);

/** A tolerance, and offsets from the receiver's clock around both of its edges, inside it, and anywhere. */
const toleranceAndOffset = fc
  .oneof(fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 3600 }))
  .chain((tolerance) =>
    fc.tuple(
      fc.constant(tolerance),
      fc.oneof(
        fc.integer({ min: -tolerance - 2, max: -tolerance + 2 }),
        fc.integer({ min: tolerance - 2, max: tolerance + 2 }),
        fc.integer({ min: -2 * tolerance, max: 2 * tolerance }),
        fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }),
      ),
    ),
  );

describe("signature timestamps", () => {
  it(
    "accepts a genuine delivery exactly when its timestamp is within the tolerance either way, " +
      "whatever decoys and unknown entries surround it",
    async () => {
      const accepted: string[] = [];
      const rejected: string[] = [];
      await fc.assert(
        fc.asyncProperty(
          toleranceAndOffset,
          fc.integer({ min: 0, max: 999 }),
          fc.array(noise, { maxLength: 4 }),
          fc.nat(),
          fc.nat(),
          async ([tolerance, offset], millis, extra, tAt, vAt) => {
            const nowMs = BASE_MS + millis;
            const worker = createWorker({ handlers, now: () => nowMs });
            const delivery = await signedDelivery(BASE_S + offset, Math.abs(offset));
            const entries = [...extra];
            entries.splice(tAt % (entries.length + 1), 0, `t=${delivery.timestamp}`);
            entries.splice(vAt % (entries.length + 1), 0, `v1=${delivery.signature}`);
            const testEnv = envWith({ EVENTS_QUEUE: queue, STRIPE_WEBHOOK_TOLERANCE_SECONDS: String(tolerance) });
            const response = await deliver(delivery.payload, { signature: entries.join(","), worker, env: testEnv });

            if (Math.abs(offset) <= tolerance) {
              expect(await expectReceipt(response, delivery.id)).toBe(false);
              accepted.push(delivery.id);
            } else {
              expect(await expectErrorEnvelope(response, [TEST_SECRET])).toBe("timestamp_out_of_tolerance");
              rejected.push(delivery.id);
            }
          },
        ),
        { numRuns: propertyRuns() },
      );
      expect(await storedIds([...accepted, ...rejected])).toEqual(new Set(accepted));
      expectCleanLogs(logs, [TEST_SECRET]);
    },
    propertyTimeout(),
  );

  it(
    "rejects a genuine signature whose t= was changed to any other time, even a fresh one",
    async () => {
      const worker = createWorker({ handlers, now: () => BASE_MS });
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: -100_000, max: 100_000 }),
          fc.integer({ min: -300, max: 300 }),
          async (signedOffset, claimedOffset) => {
            fc.pre(signedOffset !== claimedOffset);
            const delivery = await signedDelivery(BASE_S + signedOffset);
            const header = `t=${BASE_S + claimedOffset},v1=${delivery.signature}`;
            const response = await deliver(delivery.payload, { signature: header, worker, env: envWith({ EVENTS_QUEUE: queue }) });
            expect(await expectErrorEnvelope(response, [TEST_SECRET])).toBe("signature_invalid");
          },
        ),
        { numRuns: propertyRuns() },
      );
      expectCleanLogs(logs, [TEST_SECRET]);
    },
    propertyTimeout(),
  );
});
