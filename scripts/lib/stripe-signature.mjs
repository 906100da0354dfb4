// The Stripe-Signature header as Stripe writes it, for the tools that post signed test deliveries
// (npm run send, the bench, the fake Stripe API of the e2e tests). The Worker never signs: it
// verifies with Stripe's SDK.
import { createHmac } from "node:crypto";

/** The hex HMAC-SHA256 of `<t>.<payload>`, keyed by the whole `whsec_…` string, as Stripe computes v1. */
export function stripeV1(payload, secret, t) {
  return createHmac("sha256", secret).update(`${t}.${payload}`).digest("hex");
}

/**
 * A full header: `t=<t>,v1=<signature>`, plus the `v0` decoy Stripe adds in test mode.
 *
 * @example
 * stripeSignatureHeader(body, "whsec_…", Math.floor(Date.now() / 1000)); // "t=…,v1=…,v0=…"
 */
export function stripeSignatureHeader(payload, secret, t) {
  return `t=${t},v1=${stripeV1(payload, secret, t)},v0=${stripeV1(payload, "whsec_decoy", t)}`;
}
