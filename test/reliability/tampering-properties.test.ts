import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { Handlers } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";
import { applyMutations, byteMutation } from "../helpers/arbitraries";
import { deliver, TEST_SECRET } from "../helpers/deliver";
import { envWith, heldQueue } from "../helpers/faults";
import { storedIds } from "../helpers/ledger";
import { captureLogs, expectCleanLogs } from "../helpers/logs";
import { propertyRuns, propertyTimeout } from "../helpers/property-runs";
import { expectErrorEnvelope, expectReceipt } from "../helpers/responses";
import { stripeSignature } from "../helpers/sign";
import { signedDelivery } from "../helpers/signed";

const NOW_MS = Date.now();
const NOW_S = Math.floor(NOW_MS / 1000);
const worker = createWorker({ handlers: new Handlers(), now: () => NOW_MS });
const testEnv = envWith({ EVENTS_QUEUE: heldQueue().queue });
let logs: string[] = [];
beforeEach(() => {
  logs = captureLogs();
});
const utf8 = (text: string) => new TextEncoder().encode(text);
const fixture = fc.nat(2);
const note = fc.string({ unit: "grapheme", maxLength: 40 });

/**
 * Whether a header still proves what Stripe signed, read the way Stripe documents it (split on `,`,
 * then on `=`): the genuine v1 signature is there, and so is a `t` naming the signed timestamp.
 * A header that does not is a forgery; one that does is a replay of the genuine delivery, which
 * the ledger turns into a duplicate.
 */
function provesSignature(header: string, signature: string, timestamp: number): boolean {
  const entries = header
    .trim()
    .split(",")
    .map((entry) => entry.split("="));
  return (
    entries.some(([key, value]) => key === "v1" && value === signature) &&
    entries.some(([key, value]) => key === "t" && value !== undefined && Number.parseInt(value, 10) === timestamp)
  );
}

describe("byte-level tampering with real signed deliveries", () => {
  it(
    "rejects every changed body with a 4xx envelope, accepting only bytes that decode to the signed text",
    async () => {
      const accepted: string[] = [];
      const rejected: string[] = [];
      await fc.assert(
        fc.asyncProperty(fixture, note, fc.array(byteMutation(), { minLength: 1, maxLength: 3 }), async (which, text, mutations) => {
          const delivery = await signedDelivery(NOW_S, which, text);
          const body = applyMutations(utf8(delivery.payload), mutations);
          const response = await deliver(body, { signature: delivery.header, worker, env: testEnv });
          // A leading UTF-8 byte-order mark, for one, is dropped on decoding: the text is still what was signed.
          if (new TextDecoder().decode(body) === delivery.payload) {
            await expectReceipt(response, delivery.id);
            accepted.push(delivery.id);
            return;
          }
          expect(response.status).toBe(400);
          await expectErrorEnvelope(response, [TEST_SECRET]);
          rejected.push(delivery.id);
        }),
        { numRuns: propertyRuns() },
      );
      // Swaps of equal bytes and similar no-ops must be rare, or the property tested little.
      expect(accepted.length).toBeLessThan(propertyRuns() / 10);
      expect(await storedIds([...accepted, ...rejected])).toEqual(new Set(accepted));
      expectCleanLogs(logs, [TEST_SECRET]);
    },
    propertyTimeout(),
  );

  it(
    "rejects every changed Stripe-Signature header that no longer proves the signature, and never answers 5xx",
    async () => {
      const printable = fc.integer({ min: 0x21, max: 0x7e });
      const accepted: string[] = [];
      const rejected: string[] = [];
      await fc.assert(
        fc.asyncProperty(fixture, fc.array(byteMutation(printable, false), { minLength: 1, maxLength: 3 }), async (which, mutations) => {
          const delivery = await signedDelivery(NOW_S, which);
          // Without the v0 decoy, which the receiver ignores, so every edit lands on what is verified.
          const genuine = `t=${delivery.timestamp},v1=${delivery.signature}`;
          const header = new TextDecoder().decode(applyMutations(utf8(genuine), mutations));
          const response = await deliver(delivery.payload, { signature: header, worker, env: testEnv });
          if (response.status === 200) {
            expect(provesSignature(header, delivery.signature, delivery.timestamp), `accepted header ${header}`).toBe(true);
            await expectReceipt(response, delivery.id);
            accepted.push(delivery.id);
            return;
          }
          expect(response.status).toBe(400);
          await expectErrorEnvelope(response, [TEST_SECRET]);
          rejected.push(delivery.id);
        }),
        { numRuns: propertyRuns() },
      );
      expect(await storedIds([...accepted, ...rejected])).toEqual(new Set(accepted));
      expectCleanLogs(logs, [TEST_SECRET]);
    },
    propertyTimeout(),
  );

  it(
    "rejects a genuine signature under another secret, however close to the configured one",
    async () => {
      const nearMiss = fc.oneof(
        fc.string({ minLength: 1, maxLength: 4 }).map((s) => `${TEST_SECRET}${s}`),
        fc.nat().map((i) => TEST_SECRET.slice(0, Math.max(6, i % TEST_SECRET.length))),
        fc.tuple(fc.nat(), fc.stringMatching(/^[a-zA-Z0-9]$/)).map(([i, c]) => {
          const at = 6 + (i % (TEST_SECRET.length - 6));
          return TEST_SECRET.slice(0, at) + c + TEST_SECRET.slice(at + 1);
        }),
        fc.constant(TEST_SECRET.toUpperCase()),
      );
      await fc.assert(
        fc.asyncProperty(
          fixture,
          nearMiss.filter((s) => s !== TEST_SECRET),
          async (which, secret) => {
            const delivery = await signedDelivery(NOW_S, which);
            const forged = await stripeSignature(delivery.payload, secret, delivery.timestamp);
            const response = await deliver(delivery.payload, { signature: `t=${delivery.timestamp},v1=${forged}`, worker, env: testEnv });
            expect(response.status).toBe(400);
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
