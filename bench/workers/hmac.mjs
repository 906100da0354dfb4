// Stripe signature check with WebCrypto only, shared by the floor and bare receivers. It does what
// any correct receiver must: parse t= and every v1=, refuse a timestamp outside the tolerance, and
// compare in constant time (crypto.subtle.verify) under each configured secret.
const encoder = new TextEncoder();
const keys = new Map(); // imported once per isolate and secret, as any sane receiver would

/** True when one v1 signature in `header` is the HMAC-SHA256 of "<t>.<body>" under a secret. */
export async function verifyStripeSignature(body, header, secrets, toleranceSeconds, nowSeconds) {
  if (!header) return { ok: false, code: "signature_missing" };
  let t = NaN;
  const v1 = [];
  for (const part of header.split(",")) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq);
    if (key === "t") t = Number(part.slice(eq + 1));
    else if (key === "v1") v1.push(part.slice(eq + 1));
  }
  if (!Number.isInteger(t) || v1.length === 0) return { ok: false, code: "signature_invalid" };
  const signed = encoder.encode(`${t}.${body}`);
  for (const secret of secrets) {
    const key = await importKey(secret);
    for (const hex of v1) {
      const mac = hexToBytes(hex);
      if (mac !== null && (await crypto.subtle.verify("HMAC", key, mac, signed))) {
        if (Math.abs(nowSeconds - t) > toleranceSeconds) return { ok: false, code: "timestamp_out_of_tolerance" };
        return { ok: true };
      }
    }
  }
  return { ok: false, code: "signature_invalid" };
}

async function importKey(secret) {
  let key = keys.get(secret);
  if (key === undefined) {
    key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    keys.set(secret, key);
  }
  return key;
}

function hexToBytes(hex) {
  if (hex.length !== 64 || !/^[0-9a-f]+$/.test(hex)) return null;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The error answer both receivers give: the same envelope as the real Worker. */
export function reject(code, status = 400) {
  return Response.json({ error: { code, message: code } }, { status });
}
