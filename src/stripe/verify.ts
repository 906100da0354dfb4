import Stripe from "stripe";
import type { WebhookSecret } from "../config";
import { ApiError } from "../errors";
import { parseSignatureHeader } from "./signature-header";

// Made once per isolate: the provider is stateless, and Workers has no Node crypto to default to.
const cryptoProvider = Stripe.createSubtleCryptoProvider();

export interface VerifyInput {
  /** The raw body exactly as received. */
  payload: string;
  /** The `Stripe-Signature` header, or null when the request had none. */
  header: string | null;
  /** In configured order; an entry past its `expiresAt` verifies nothing. */
  secrets: readonly WebhookSecret[];
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
  let matchedExpired: { position: number; expiresAt: number } | null = null;
  for (const [secretIndex, { value: secret, expiresAt }] of secrets.entries()) {
    if (expiresAt !== null && nowMs >= expiresAt) {
      // Checked only to explain a refusal: a sender still signing with a rolled secret is common.
      if (matchedExpired === null && (await signedWith(payload, header, secret, nowMs))) matchedExpired = { position: secretIndex + 1, expiresAt };
      continue;
    }
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
  if (matchedExpired !== null) {
    throw new ApiError(
      "signature_invalid",
      `This delivery is signed only with configured secret ${matchedExpired.position} of ${secrets.length}, which expired at ${new Date(matchedExpired.expiresAt).toISOString()}. ` +
        "A configured secret has expired: the sender still signs with the rolled (old) secret. Finish the roll in the Stripe Dashboard, or extend the expiry after '@' in STRIPE_WEBHOOK_SECRET.",
    );
  }
  const expired = secrets.filter((s) => s.expiresAt !== null && nowMs >= s.expiresAt).length;
  throw new ApiError(
    "signature_invalid",
    (expired > 0 ? `${expired} configured secret(s) have expired and were not tried. ` : "") +
    `No v1 signature in the Stripe-Signature header matches this body under the ${secrets.length} configured secret(s). ` +
      "Common causes: the body was changed before it reached this Worker (re-serialised JSON, altered whitespace or line endings); " +
      "the secret belongs to another endpoint (`stripe listen` prints its own secret, different from the Dashboard endpoint's); " +
      "a test-mode secret receiving live events or the reverse; or a secret rolled in the Dashboard but not yet added here.",
  );
}

/** Whether a v1 signature in the header matches under this secret, ignoring the timestamp's age. */
async function signedWith(payload: string, header: string, secret: string, nowMs: number): Promise<boolean> {
  const signature = Stripe.webhooks.signature;
  if (signature === null) return false;
  try {
    await signature.verifyHeaderAsync(payload, header, secret, Number.MAX_SAFE_INTEGER, cryptoProvider, nowMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * The fields the ledger stores must have Stripe's types, or the insert would fail and Stripe would be
 * told to retry (500) an event that can never be recorded.
 */
function assertEventShape(event: unknown): asserts event is Stripe.Event {
  const candidate = event as Record<string, unknown> | null;
  const optionalString = (v: unknown) => v === undefined || v === null || typeof v === "string";
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    Array.isArray(candidate) ||
    typeof candidate.id !== "string" ||
    !candidate.id.startsWith("evt_") ||
    typeof candidate.type !== "string" ||
    candidate.type === "" ||
    !Number.isSafeInteger(candidate.created) ||
    !(candidate.livemode === undefined || typeof candidate.livemode === "boolean") ||
    !optionalString(candidate.api_version) ||
    !optionalString(candidate.account)
  ) {
    throw notAnEvent();
  }
}

function notAnEvent(): ApiError {
  return new ApiError(
    "payload_invalid",
    "The signature is valid but the body is not a Stripe event: it must be a JSON object with an id starting with evt_, a type and an integer created time. Thin events (v2) need an event destination that sends snapshot events.",
  );
}
