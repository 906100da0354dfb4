import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { Handlers } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";
import { printableChar } from "../helpers/arbitraries";
import { deliver, TEST_SECRET } from "../helpers/deliver";
import { envWith, failingQueue } from "../helpers/faults";
import { storedRows } from "../helpers/ledger";
import { captureLogs, expectCleanLogs } from "../helpers/logs";
import { propertyRuns, propertyTimeout } from "../helpers/property-runs";
import { expectErrorEnvelope, expectReceipt } from "../helpers/responses";
import { signatureHeader } from "../helpers/sign";
import { signedDelivery } from "../helpers/signed";

const NOW_MS = Date.now();
const NOW_S = Math.floor(NOW_MS / 1000);
const worker = createWorker({ handlers: new Handlers(), now: () => NOW_MS });
// The enqueue runs after the answer (in waitUntil) and has its own tests in fault-chains; here the
// queue refuses every send, so each of thousands of acceptances costs one D1 write and no more.
const queue = failingQueue();
let logs: string[] = [];
beforeEach(() => {
  logs = captureLogs();
});
/**
 * Secrets of printable ASCII without commas, as in a comma-separated list. HMAC pads short keys
 * with zero bytes, so `k` and `k\0` sign alike; Stripe's secrets are base62 and never end in NUL.
 */
const secret = fc
  .string({ unit: printableChar.filter((c) => c !== ","), minLength: 1, maxLength: 40 })
  .map((s) => `whsec_${s.trim() || "x"}`);

describe("webhook secrets", () => {
  it(
    "accepts a delivery exactly when one of its signatures is made with a configured secret, and records which one",
    async () => {
      const expectedIndex = new Map<string, number>();
      const rejected: string[] = [];
      const allConfigured = new Set<string>();
      await fc.assert(
        fc.asyncProperty(
          fc.uniqueArray(secret, { minLength: 1, maxLength: 3 }),
          fc.array(
            fc.oneof(
              fc.nat().map((i) => ({ configured: i })),
              secret.map((s) => ({ other: s })),
            ),
            { minLength: 1, maxLength: 3 },
          ),
          fc.array(fc.constantFrom("", " ", "  "), { minLength: 6, maxLength: 6 }),
          async (configured, signerChoice, padding) => {
            const signers = signerChoice.map((s) => ("configured" in s ? configured[s.configured % configured.length]! : s.other));
            // Spaces around entries are dropped when the setting is read (a pasted secret often has them).
            const setting = configured.map((s, i) => `${padding[i]}${s}${padding[i + 3]}`).join(",");
            for (const s of configured) allConfigured.add(s);
            const delivery = await signedDelivery(NOW_S);
            const header = await signatureHeader(delivery.payload, signers, NOW_S);
            const testEnv = envWith({ EVENTS_QUEUE: queue, STRIPE_WEBHOOK_SECRET: setting });
            const response = await deliver(delivery.payload, { signature: header, worker, env: testEnv });

            const matching = configured.findIndex((s) => signers.includes(s));
            if (matching >= 0) {
              expect(await expectReceipt(response, delivery.id)).toBe(false);
              expectedIndex.set(delivery.id, matching);
            } else {
              expect(await expectErrorEnvelope(response, configured)).toBe("signature_invalid");
              rejected.push(delivery.id);
            }
          },
        ),
        { numRuns: propertyRuns() },
      );
      const rows = await storedRows([...expectedIndex.keys(), ...rejected]);
      expect(new Set(rows.keys())).toEqual(new Set(expectedIndex.keys()));
      for (const [id, index] of expectedIndex) expect(rows.get(id)?.secret_index, id).toBe(index);
      expectCleanLogs(
        logs,
        [...allConfigured].filter((s) => s.length >= 10),
      );
    },
    propertyTimeout(),
  );

  it(
    "answers 500 with a configuration code only when STRIPE_WEBHOOK_SECRET is unusable, and never echoes it",
    async () => {
      const entry = fc.oneof(
        fc.constant(TEST_SECRET),
        secret,
        fc.constantFrom("", " ", "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "rk_live_abc", "WHSEC_upper", "whsec"),
        fc.string({ unit: printableChar.filter((c) => c !== ","), maxLength: 30 }),
      );
      const setting = fc.oneof(
        fc
          .array(fc.tuple(entry, fc.constantFrom("", " ")), { minLength: 1, maxLength: 4 })
          .map((es) => es.map(([e, pad]) => `${pad}${e}${pad}`).join(",")),
        fc.string({ unit: printableChar, maxLength: 60 }),
      );
      const leaked = new Set<string>([TEST_SECRET]);
      await fc.assert(
        fc.asyncProperty(setting, async (raw) => {
          const delivery = await signedDelivery(NOW_S);
          const testEnv = envWith({ EVENTS_QUEUE: queue, STRIPE_WEBHOOK_SECRET: raw });
          const response = await deliver(delivery.payload, { signature: delivery.header, worker, env: testEnv });

          // The rule README.md states: every comma-separated entry, trimmed, must be a whsec_ secret.
          const entries = raw.split(",").map((e) => e.trim());
          const secretLike = entries
            .filter((e) => e.startsWith("whsec_") || e.startsWith("sk_") || e.startsWith("rk_"))
            .filter((e) => e.length >= 10);
          for (const s of secretLike) leaked.add(s);
          if (entries.every((e) => e === "")) {
            expect(await expectErrorEnvelope(response, secretLike)).toBe("webhook_secret_missing");
          } else if (entries.some((e) => !e.startsWith("whsec_"))) {
            expect(await expectErrorEnvelope(response, secretLike)).toBe("webhook_secret_invalid");
          } else if (entries.includes(TEST_SECRET)) {
            expect(await expectReceipt(response, delivery.id)).toBe(false);
          } else {
            expect(await expectErrorEnvelope(response, secretLike)).toBe("signature_invalid");
          }
        }),
        { numRuns: propertyRuns() },
      );
      expectCleanLogs(logs, [...leaked]);
    },
    propertyTimeout(),
  );
});
