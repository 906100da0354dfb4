const encoder = new TextEncoder();

/**
 * Signs a payload the way Stripe does (HMAC-SHA256 of "<t>.<body bytes>" keyed by the whole `whsec_`
 * string), written independently of Stripe's SDK so the tests do not check the SDK against itself.
 */
export async function stripeSignature(payload: string | Uint8Array, secret: string, timestamp: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const body = typeof payload === "string" ? encoder.encode(payload) : payload;
  const mac = await crypto.subtle.sign("HMAC", key, new Uint8Array([...encoder.encode(`${timestamp}.`), ...body]));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A full `Stripe-Signature` header: `t=…,v1=…` per secret, plus a `v0` decoy as in test mode. */
export async function signatureHeader(payload: string | Uint8Array, secrets: readonly string[], timestamp: number): Promise<string> {
  const v1 = await Promise.all(secrets.map(async (s) => `v1=${await stripeSignature(payload, s, timestamp)}`));
  const decoy = await stripeSignature(payload, "whsec_decoy", timestamp);
  return [`t=${timestamp}`, ...v1, `v0=${decoy}`].join(",");
}
