import fc from "fast-check";
import { beforeEach, describe, expect, it } from "vitest";
import { Handlers } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";
import { deliver, TEST_SECRET } from "../helpers/deliver";
import { newEventId } from "../helpers/events";
import { envWith, failingQueue } from "../helpers/faults";
import { storedRows } from "../helpers/ledger";
import { captureLogs, expectCleanLogs } from "../helpers/logs";
import { propertyRuns, propertyTimeout } from "../helpers/property-runs";
import { expectErrorEnvelope, expectReceipt } from "../helpers/responses";
import { signatureHeader } from "../helpers/sign";

const NOW_MS = Date.now();
const NOW_S = Math.floor(NOW_MS / 1000);
const worker = createWorker({ handlers: new Handlers(), now: () => NOW_MS });
// The enqueue runs after the answer (in waitUntil) and has its own tests in fault-chains; here the
// queue refuses every send, so each acceptance costs one D1 write and no more.
const testEnv = envWith({ EVENTS_QUEUE: failingQueue() });
let logs: string[] = [];
beforeEach(() => {
  logs = captureLogs();
});
/** The columns the ledger fills from the event itself; `extra` fields never overwrite them. */
const LEDGER_FIELDS = ["id", "type", "object", "created", "livemode", "api_version", "account", "data"];

/**
 * Event-shaped JSON as Stripe could sign it, and near misses: an id that is not `evt_…`, a type that
 * is empty or not a string, a thin (v2) event; plus arbitrary extra fields and formatting.
 */
const eventLike = fc
  .record({
    idKind: fc.constantFrom("evt", "evt", "evt", "cs_", "number", "absent"),
    type: fc.oneof(
      fc.constantFrom("invoice.paid", "checkout.session.completed", "customer.created"),
      fc.string({ maxLength: 20 }),
      fc.constant(42),
    ),
    object: fc.constantFrom("event", "event", "v2.core.event", undefined),
    created: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    livemode: fc.boolean(),
    api_version: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
    account: fc.option(
      fc.string({ maxLength: 20 }).map((s) => `acct_${s}`),
      { nil: undefined },
    ),
    data: fc.jsonValue({ maxDepth: 3 }).map((object) => ({ object })),
    extra: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    indent: fc.constantFrom(undefined, 2, "\t"),
  })
  .map(({ idKind, extra, indent, ...fields }) => {
    const event: Record<string, unknown> = Object.fromEntries(Object.entries(extra).filter(([k]) => !LEDGER_FIELDS.includes(k)));
    if (idKind === "evt") event.id = newEventId();
    else if (idKind === "cs_") event.id = `cs_test_${crypto.randomUUID()}`;
    else if (idKind === "number") event.id = 42;
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) event[key] = value;
    return JSON.stringify(event, null, indent);
  });

/** Signed text that is not an event: any Unicode (Stripe never sends a byte-order mark), any JSON. */
const notAnEvent = fc.oneof(
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 300 }).filter((s) => !s.startsWith("\uFEFF")),
  fc.json({ maxDepth: 3 }),
);

/** What Stripe's event contract says a receiver should accept: a JSON object with an `evt_` id and a type, not a thin event. */
function isSnapshotEvent(body: string): body is string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return false;
  const e = parsed as Record<string, unknown>;
  return typeof e.id === "string" && e.id.startsWith("evt_") && typeof e.type === "string" && e.type !== "" && e.object !== "v2.core.event";
}

describe("signed bodies", () => {
  it(
    "records exactly the signed text of every snapshot event and answers 400 payload_invalid for anything else, never 5xx",
    async () => {
      const accepted = new Map<string, string>();
      const rejected: string[] = [];
      await fc.assert(
        fc.asyncProperty(fc.oneof(eventLike, eventLike, notAnEvent), async (body) => {
          const header = await signatureHeader(body, [TEST_SECRET], NOW_S);
          const response = await deliver(body, { signature: header, worker, env: testEnv });
          if (isSnapshotEvent(body)) {
            const id = (JSON.parse(body) as { id: string }).id;
            expect(await expectReceipt(response, id)).toBe(false);
            accepted.set(id, body);
          } else {
            expect(await expectErrorEnvelope(response, [TEST_SECRET])).toBe("payload_invalid");
            const id = (() => {
              try {
                return (JSON.parse(body) as { id?: unknown })?.id;
              } catch {
                return undefined;
              }
            })();
            if (typeof id === "string") rejected.push(id);
          }
        }),
        { numRuns: propertyRuns() },
      );
      const rows = await storedRows([...accepted.keys(), ...rejected]);
      expect(new Set(rows.keys())).toEqual(new Set(accepted.keys()));
      for (const [id, body] of accepted) expect(rows.get(id)?.payload, id).toBe(body);
      expectCleanLogs(logs, [TEST_SECRET]);
    },
    propertyTimeout(),
  );
});
