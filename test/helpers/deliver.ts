import headers from "../fixtures/delivery-headers.json";
import { signatureHeader } from "./sign";
import { callWorker, type FetchTarget } from "./worker";

export const TEST_SECRET = "whsec_test_secret_for_vitest";

export interface DeliverOptions {
  secrets?: readonly string[];
  /** Signature timestamp, Unix seconds; defaults to now. */
  timestamp?: number;
  /** Replaces the computed Stripe-Signature header; null sends none. */
  signature?: string | null;
  env?: Env;
  worker?: FetchTarget;
  method?: string;
  /** The webhook path; defaults to the snapshot endpoint. */
  path?: string;
}

/** Stripe's delivery headers (fixtures/delivery-headers.json) minus the signature placeholder. */
export function stripeHeaders(signature: string | null): Headers {
  const h = new Headers();
  for (const [name, value] of Object.entries(headers)) if (name !== "Stripe-Signature") h.set(name, value);
  if (signature !== null) h.set("Stripe-Signature", signature);
  return h;
}

/**
 * Posts a body to /webhooks/stripe (or `options.path`) through the Worker's real fetch handler, signed
 * like Stripe does (or with `options.signature` as the header), and waits for everything the Worker
 * put in waitUntil (the enqueue) before returning. A string or bytes are sent as they are; anything
 * else as its JSON.
 *
 * @example
 * const response = await deliver(event, { signature: `t=${now},v1=${"0".repeat(64)}` });
 */
export async function deliver(body: string | Uint8Array | object, options: DeliverOptions = {}): Promise<Response> {
  const payload = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature =
    options.signature !== undefined ? options.signature : await signatureHeader(payload, options.secrets ?? [TEST_SECRET], timestamp);
  return callWorker(options.path ?? "/webhooks/stripe", {
    method: options.method ?? "POST",
    headers: stripeHeaders(signature),
    body: payload,
    ...(options.env ? { env: options.env } : {}),
    ...(options.worker ? { worker: options.worker } : {}),
  });
}

/** Posts a thin notification to /webhooks/stripe/thin, signed like Stripe signs an event destination's deliveries. */
export function deliverThin(body: string | object, options: DeliverOptions = {}): Promise<Response> {
  return deliver(body, { path: "/webhooks/stripe/thin", ...options });
}
