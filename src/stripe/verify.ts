import Stripe from "stripe";
import { ApiError } from "../errors";
import { parseSignatureHeader } from "./signature-header";

// Made once per isolate: the provider is stateless, and Workers has no Node crypto to default to.
const cryptoProvider = Stripe.createSubtleCryptoProvider();

export interface VerifyInput {
  /** The raw body exactly as received. */
  payload: string;
  /** The `Stripe-Signature` header, or null when the request had none. */
  header: string | null;
  secrets: readonly string[];
  toleranceSeconds: number;
  /** The current time in milliseconds; injectable so a captured delivery verifies at its own time. */
  nowMs: number;
}

export interface VerifiedDelivery {
  event: Stripe.Event;
  /** Zero-based position of the configured secret that verified it (never the secret itself). */
  secretIndex: number;
}

/**
 * Verifies a delivery with Stripe's SDK (`constructEventAsync` over SubtleCrypto), trying each
 * configured secret, and also refuses timestamps more than the tolerance in the future (the SDK only
 * checks the past). Throws an `ApiError` that says what is wrong and what usually causes it.
 *
 * @example
 * const { event } = await verifyDelivery({ payload, header, secrets, toleranceSeconds: 300, nowMs: Date.now() });
 */
export async function verifyDelivery(input: VerifyInput): Promise<VerifiedDelivery> {
  const { payload, header, secrets, toleranceSeconds, nowMs } = input;
  if (header === null || header.trim() === "") {
    throw new ApiError(
      "signature_missing",
      "The request has no Stripe-Signature header. Deliveries from Stripe and `stripe listen` always carry one; a proxy in front of this Worker may be stripping it.",
    );
  }
  if (payload === "") {
    throw new ApiError(
      "payload_invalid",
      "The request body is empty. Stripe always sends the event as a JSON body; a proxy in front of this Worker may be dropping it.",
    );
  }
  const parsed = parseSignatureHeader(header);
  if (parsed.timestamp === null) {
    throw new ApiError("signature_invalid", "The Stripe-Signature header has no t=<unix seconds> timestamp. Pass the header through unchanged.");
  }
  if (parsed.v1Count === 0) {
    throw new ApiError(
      "signature_invalid",
      parsed.hasV0
        ? "The Stripe-Signature header has only a v0 signature. v0 is a test-mode decoy; Stripe signs with v1, which is missing here."
        : "The Stripe-Signature header has no v1 signature. Pass the header through unchanged.",
    );
  }

  let signatureMatchedButStale = false;
  for (const [secretIndex, secret] of secrets.entries()) {
    let event: Stripe.Event;
    try {
      event = await Stripe.webhooks.constructEventAsync(payload, header, secret, toleranceSeconds, cryptoProvider, nowMs);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
        // The SDK checks the signature before the age, so this message means the secret matched.
        if (err.message.startsWith("Timestamp outside the tolerance zone")) signatureMatchedButStale = true;
        continue;
      }
      // Anything else is thrown after the signature matched: the signed body is not an event.
      throw notAnEvent();
    }
    assertEventShape(event);
    const skewSeconds = parsed.timestamp - Math.floor(nowMs / 1000);
    if (skewSeconds > toleranceSeconds) {
      throw new ApiError(
        "timestamp_out_of_tolerance",
        `The signature is valid but its timestamp is ${skewSeconds} s in the future (tolerance ${toleranceSeconds} s). Check the clock of whatever signed this delivery.`,
      );
    }
    return { event, secretIndex };
  }

  if (signatureMatchedButStale) {
    const ageSeconds = Math.floor(nowMs / 1000) - parsed.timestamp;
    throw new ApiError(
      "timestamp_out_of_tolerance",
      `The signature is valid but was made ${ageSeconds} s ago (tolerance ${toleranceSeconds} s). Stripe signs every retry afresh, so this is a replayed or long-delayed request; raise STRIPE_WEBHOOK_TOLERANCE_SECONDS only if a proxy really holds deliveries that long.`,
    );
  }
  throw new ApiError(
    "signature_invalid",
    `No v1 signature in the Stripe-Signature header matches this body under the ${secrets.length} configured secret(s). ` +
      "Common causes: the body was changed before it reached this Worker (re-serialised JSON, altered whitespace or line endings); " +
      "the secret belongs to another endpoint (`stripe listen` prints its own secret, different from the Dashboard endpoint's); " +
      "a test-mode secret receiving live events or the reverse; or a secret rolled in the Dashboard but not yet added here.",
  );
}

function assertEventShape(event: unknown): asserts event is Stripe.Event {
  const candidate = event as { id?: unknown; type?: unknown; object?: unknown } | null;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    typeof candidate.id !== "string" ||
    !candidate.id.startsWith("evt_") ||
    typeof candidate.type !== "string" ||
    candidate.type === ""
  ) {
    throw notAnEvent();
  }
}

function notAnEvent(): ApiError {
  return new ApiError(
    "payload_invalid",
    "The signature is valid but the body is not a Stripe event: it must be a JSON object with an id starting with evt_ and a type. Thin events (v2) need an event destination that sends snapshot events.",
  );
}
