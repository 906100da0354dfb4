import { TEST_SECRET } from "./deliver";
import { buildEvent, OBJECTS } from "./events";
import { signatureHeader, stripeSignature } from "./sign";

export interface SignedDelivery {
  id: string;
  payload: string;
  timestamp: number;
  /** The v1 signature Stripe would send for `payload` at `timestamp` under TEST_SECRET. */
  signature: string;
  /** The whole header as Stripe sends it in test mode: `t=…,v1=…,v0=…`. */
  header: string;
}

const FIXTURES = [
  ["invoice.paid", OBJECTS.invoice],
  ["checkout.session.completed", OBJECTS["checkout.session"]],
  ["customer.created", OBJECTS.customer],
] as const;

/**
 * A real signed delivery of a fresh event built from a fixture object (`fixture` picks which), with
 * `note` stored in its metadata so bodies carry arbitrary Unicode.
 */
export async function signedDelivery(timestamp: number, fixture = 0, note = ""): Promise<SignedDelivery> {
  const [type, object] = FIXTURES[fixture % FIXTURES.length]!;
  const event = buildEvent(type, { ...object, metadata: { note } });
  const payload = JSON.stringify(event);
  return {
    id: event.id,
    payload,
    timestamp,
    signature: await stripeSignature(payload, TEST_SECRET, timestamp),
    header: await signatureHeader(payload, [TEST_SECRET], timestamp),
  };
}
