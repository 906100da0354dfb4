import Stripe from "stripe";
import type { WebhookSecret } from "../config";
import { ApiError } from "../errors";
import type { DeliveryFormat, LedgerEvent } from "../ledger/event";
import { claimedFormat, isSnapshotEvent, isThinPayload, snapshotEntry, thinEntry } from "./event-shape";
import { parseSignatureHeader } from "./signature-header";

// Made once per isolate: the provider is stateless, and Workers has no Node crypto to default to.
const cryptoProvider = Stripe.createSubtleCryptoProvider();

// `parseEventNotificationAsync` is an instance method, and a Stripe instance needs a key although
// parsing sends nothing. This one's HTTP client refuses every request, so the placeholder key can
// never leave the Worker. Built on the first thin delivery: most isolates never need it.
let thinVerifier: Stripe | undefined;
function verifierForThin(): Stripe {
  thinVerifier ??= new Stripe("sk_thin_verification_only", {
    httpClient: Stripe.createFetchHttpClient(() => Promise.reject(new Error("This Stripe client only verifies thin event signatures."))),
    maxNetworkRetries: 0,
  });
  return thinVerifier;
}

/** Verifies the signature and age with the SDK's function for one format; resolves to the parsed body. */
type SdkVerify = (payload: string, header: string, secret: string, toleranceSeconds: number, nowMs: number) => Promise<unknown>;

const SDK_VERIFY: Record<DeliveryFormat, SdkVerify> = {
  snapshot: (payload, header, secret, tolerance, nowMs) =>
    Stripe.webhooks.constructEventAsync(payload, header, secret, tolerance, cryptoProvider, nowMs),
  thin: (payload, header, secret, tolerance, nowMs) =>
    verifierForThin().parseEventNotificationAsync(payload, header, secret, tolerance, cryptoProvider, nowMs),
};

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
  /** The format this endpoint accepts. */
  format: DeliveryFormat;
  /** Where deliveries of the other format go (a full URL), named when one arrives here by mistake; only called then. */
  otherFormatUrl: () => string;
}

export interface VerifiedDelivery {
  /** What the ledger records about the event. */
  event: LedgerEvent;
  /** Zero-based position of the configured secret that verified it (never the secret itself). */
  secretIndex: number;
}

/**
 * Verifies a delivery with Stripe's SDK over SubtleCrypto (`constructEventAsync` for snapshot events,
 * `parseEventNotificationAsync` for thin ones), trying each configured secret. Both formats are
 * checked in the same order: the signature, then the timestamp (in the past by the SDK, in the future
 * here, as the SDK does not), then the payload's shape, so a stale or future delivery is always
 * `timestamp_out_of_tolerance`, never `payload_invalid`. Throws an `ApiError` that says what is wrong
 * and what usually causes it; a body of the other format names the URL it should go to.
 *
 * @example
 * const { event } = await verifyDelivery({
 *   payload, header, secrets, toleranceSeconds: 300, nowMs: Date.now(), format: "snapshot", otherFormatUrl: () => thinUrl,
 * });
 */
export async function verifyDelivery(input: VerifyInput): Promise<VerifiedDelivery> {
  const { payload, header, secrets, toleranceSeconds, nowMs, format } = input;
  if (header === null || header.trim() === "") {
    throw new ApiError(
      "signature_missing",
      "The request has no Stripe-Signature header. Deliveries from Stripe and `stripe listen` always carry one; " +
        "a proxy in front of this Worker may be stripping it.",
    );
  }
  if (payload === "") {
    throw new ApiError(
      "payload_invalid",
      "The request body is empty. Stripe always sends the event as a JSON body; a proxy in front of this Worker may be dropping it.",
    );
  }
  const parsedHeader = parseSignatureHeader(header);
  if (parsedHeader.timestamp === null) {
    throw new ApiError(
      "signature_invalid",
      "The Stripe-Signature header has no t=<unix seconds> timestamp. Pass the header through unchanged.",
    );
  }
  if (parsedHeader.v1Count === 0) {
    throw new ApiError(
      "signature_invalid",
      parsedHeader.hasV0
        ? "The Stripe-Signature header has only a v0 signature. v0 is a test-mode decoy; Stripe signs with v1, which is missing here."
        : "The Stripe-Signature header has no v1 signature. Pass the header through unchanged.",
    );
  }

  let signatureMatchedButStale = false;
  let matchedExpired: { position: number; expiresAt: number } | null = null;
  for (const [secretIndex, { value: secret, expiresAt }] of secrets.entries()) {
    if (expiresAt !== null && nowMs >= expiresAt) {
      // Checked only to explain a refusal: a sender still signing with a rolled secret is common.
      if (matchedExpired === null && (await signedWith(payload, header, secret, nowMs)))
        matchedExpired = { position: secretIndex + 1, expiresAt };
      continue;
    }
    let parsed: unknown;
    try {
      parsed = await SDK_VERIFY[format](payload, header, secret, toleranceSeconds, nowMs);
    } catch (err) {
      if (err instanceof Stripe.errors.StripeSignatureVerificationError) {
        // The SDK checks the signature before the age, so this message means the secret matched.
        if (err.message.startsWith("Timestamp outside the tolerance zone")) signatureMatchedButStale = true;
        continue;
      }
      // Anything else is thrown after the signature matched and the age passed: the signed body is
      // not an event of this format. The timestamp still comes first.
      refuseFuture(parsedHeader.timestamp, nowMs, toleranceSeconds);
      throw refusedBody(format, payload, input.otherFormatUrl);
    }
    refuseFuture(parsedHeader.timestamp, nowMs, toleranceSeconds);
    return { event: toLedgerEvent(format, parsed, payload, input.otherFormatUrl), secretIndex };
  }

  if (signatureMatchedButStale) {
    const ageSeconds = Math.floor(nowMs / 1000) - parsedHeader.timestamp;
    throw new ApiError(
      "timestamp_out_of_tolerance",
      `The signature is valid but was made ${ageSeconds} s ago (tolerance ${toleranceSeconds} s). ` +
        "Stripe signs every retry afresh, so this is a replayed or long-delayed request; " +
        "raise STRIPE_WEBHOOK_TOLERANCE_SECONDS only if a proxy really holds deliveries that long.",
    );
  }
  // Which secret, how many and when they expire go to the operator's log line, never to the sender.
  const expired = secrets.filter((s) => s.expiresAt !== null && nowMs >= s.expiresAt).length;
  const logFields = { secrets_configured: secrets.length, secrets_expired: expired };
  if (matchedExpired !== null) {
    throw new ApiError(
      "signature_invalid",
      "This delivery is signed only with a configured secret that has expired: the sender still signs with the rolled " +
        "(old) secret. Finish the roll in the Stripe Dashboard, or extend the expiry after '@' in STRIPE_WEBHOOK_SECRET " +
        "(the Worker's log line for this delivery names the entry).",
      {
        logFields: { ...logFields, secret_position: matchedExpired.position, expired_at: new Date(matchedExpired.expiresAt).toISOString() },
      },
    );
  }
  throw new ApiError(
    "signature_invalid",
    "No v1 signature in the Stripe-Signature header matches this body under the configured secrets. " +
      "Common causes: the body was changed before it reached this Worker (re-serialised JSON, altered whitespace or line endings); " +
      "the secret belongs to another endpoint (`stripe listen` prints its own secret, different from the Dashboard endpoint's); " +
      "a test-mode secret receiving live events or the reverse; or a secret rolled in the Dashboard but not yet added here, " +
      "or expired (the Worker's log line for this delivery counts them).",
    { logFields },
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

/** Refuses a signature timestamp further in the future than the tolerance (the SDK checks only the past). */
function refuseFuture(timestamp: number, nowMs: number, toleranceSeconds: number): void {
  const skewSeconds = timestamp - Math.floor(nowMs / 1000);
  if (skewSeconds > toleranceSeconds) {
    throw new ApiError(
      "timestamp_out_of_tolerance",
      `The signature is valid but its timestamp is ${skewSeconds} s in the future (tolerance ${toleranceSeconds} s). ` +
        "Check the clock of whatever signed this delivery.",
    );
  }
}

/**
 * The ledger's record of a verified body, or the refusal of one whose fields do not have Stripe's
 * types (the insert would fail, and Stripe would be told to retry an event that can never be recorded).
 */
function toLedgerEvent(format: DeliveryFormat, parsed: unknown, payload: string, otherFormatUrl: () => string): LedgerEvent {
  if (format === "snapshot") {
    if (!isSnapshotEvent(parsed)) throw refusedBody(format, payload, otherFormatUrl);
    return snapshotEntry(parsed);
  }
  // The SDK's notification has methods and a parsed context; the ledger reads the body as sent.
  const body: unknown = JSON.parse(payload);
  if (!isThinPayload(body)) throw refusedBody(format, payload, otherFormatUrl);
  return thinEntry(body);
}

/** Why a verified body is refused: it is the other format (say where it goes), or not an event at all. */
function refusedBody(format: DeliveryFormat, payload: string, otherFormatUrl: () => string): ApiError {
  const claimed = claimedFormat(payload);
  if (claimed === "thin" && format === "snapshot") {
    return new ApiError(
      "payload_invalid",
      'The signature is valid but this is a thin event (object "v2.core.event", from an event destination with thin payloads), ' +
        `and this endpoint accepts snapshot events only. Change the event destination's endpoint URL to ${otherFormatUrl()} ` +
        "(or its payload style to snapshot).",
    );
  }
  if (claimed === "snapshot" && format === "thin") {
    return new ApiError(
      "payload_invalid",
      'The signature is valid but this is a snapshot event (object "event"), and this endpoint accepts thin events only. ' +
        `Change the webhook endpoint's URL to ${otherFormatUrl()} (or the event destination's payload style to thin).`,
    );
  }
  if (format === "thin") {
    return new ApiError(
      "payload_invalid",
      "The signature is valid but the body is not a thin event notification: " +
        'it must be a JSON object with object "v2.core.event", an id starting with evt_, a type, an ISO 8601 created time, ' +
        "and, when present, a related_object with a url path.",
    );
  }
  return new ApiError(
    "payload_invalid",
    "The signature is valid but the body is not a Stripe event: " +
      "it must be a JSON object with an id starting with evt_, a type and an integer created time. " +
      `Thin events (object "v2.core.event") go to ${otherFormatUrl()}.`,
  );
}
