import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { Handlers } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";
import { deliver, TEST_SECRET } from "../helpers/deliver";
import { buildEvent, OBJECTS, uid } from "../helpers/events";
import { envWith, failingQueue } from "../helpers/faults";
import { captureLogs, expectCleanLogs } from "../helpers/logs";
import { propertyRuns, propertyTimeout } from "../helpers/property-runs";
import { expectErrorEnvelope } from "../helpers/responses";
import { signatureHeader } from "../helpers/sign";
import { SDK_NOTIFICATIONS, thinEvent } from "../helpers/thin";

const NOW_MS = Date.now() - (Date.now() % 1000);
const NOW_S = NOW_MS / 1000;
const TOLERANCE = 300;
const worker = createWorker({ handlers: new Handlers(), now: () => NOW_MS });
// Acceptances cost one D1 write each and no queue send (the enqueue has its own tests).
const testEnv = envWith({ EVENTS_QUEUE: failingQueue() });
let logs: string[] = [];
beforeEach(() => {
  logs = captureLogs();
});
type Format = "snapshot" | "thin";
const PATHS: Record<Format, string> = { snapshot: "/webhooks/stripe", thin: "/webhooks/stripe/thin" };

/** A body of each kind a sender could sign: a snapshot event, a thin notification, or neither. */
const bodies = fc.constantFrom<[string, () => object]>(
  ["snapshot", () => buildEvent("invoice.paid", OBJECTS.invoice)],
  ["thin", () => thinEvent("v1.invoice.paid", { id: "in_prop", type: "invoice", url: "/v1/invoices/in_prop" })],
  ["thin", () => ({ ...structuredClone(SDK_NOTIFICATIONS[1]!), id: uid("evt") })],
  ["neither", () => ({})],
  ["neither", () => ({ object: "list", data: [] })],
);

/** Signature offsets around both edges of the tolerance, inside it, and far outside. */
const offsets = fc.oneof(
  fc.integer({ min: -TOLERANCE - 2, max: -TOLERANCE + 2 }),
  fc.integer({ min: TOLERANCE - 2, max: TOLERANCE + 2 }),
  fc.integer({ min: -TOLERANCE, max: TOLERANCE }),
  fc.integer({ min: -10 * 86400, max: 10 * 86400 }),
);

describe("both endpoints check signature, then timestamp, then format and shape", () => {
  it(
    "answers a genuine delivery by its timestamp first (either way), then by whether its format is this endpoint's",
    async () => {
      await fc.assert(
        fc.asyncProperty(bodies, fc.constantFrom<Format>("snapshot", "thin"), offsets, async ([kind, make], endpoint, offset) => {
          const payload = JSON.stringify(make());
          const signature = await signatureHeader(payload, [TEST_SECRET], NOW_S + offset);
          const response = await deliver(payload, { path: PATHS[endpoint], signature: signature, worker, env: testEnv });
          if (Math.abs(offset) > TOLERANCE) {
            expect(await expectErrorEnvelope(response, [TEST_SECRET])).toBe("timestamp_out_of_tolerance");
          } else if (kind === endpoint) {
            expect(response.status).toBe(200);
          } else {
            expect(await expectErrorEnvelope(response, [TEST_SECRET])).toBe("payload_invalid");
          }
        }),
        { numRuns: propertyRuns() },
      );
      expectCleanLogs(logs, [TEST_SECRET]);
    },
    propertyTimeout(),
  );

  it(
    "never accepts a delivery of either format signed with another secret, at either endpoint, whatever its timestamp",
    async () => {
      await fc.assert(
        fc.asyncProperty(bodies, fc.constantFrom<Format>("snapshot", "thin"), offsets, async ([, make], endpoint, offset) => {
          const payload = JSON.stringify(make());
          const signature = await signatureHeader(payload, ["whsec_forger"], NOW_S + offset);
          const response = await deliver(payload, { path: PATHS[endpoint], signature: signature, worker, env: testEnv });
          expect(await expectErrorEnvelope(response, [TEST_SECRET])).toBe("signature_invalid");
        }),
        { numRuns: propertyRuns() },
      );
      expectCleanLogs(logs, [TEST_SECRET]);
    },
    propertyTimeout(),
  );
});
