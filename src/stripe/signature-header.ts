/** The parts of a `Stripe-Signature` header that decide which error a delivery gets. */
export interface SignatureHeader {
  /** Unix seconds from `t=`, or null when absent or not a number. */
  timestamp: number | null;
  /** How many `v1=` signatures the header carries (one per secret during a roll). */
  v1Count: number;
  /** Whether it carries `v0=`, the decoy Stripe adds in test mode. */
  hasV0: boolean;
}

/**
 * Reads a `Stripe-Signature` header (`t=…,v1=…[,v1=…][,v0=…]`) exactly the way Stripe's SDK does
 * (the last `t` entry wins, read with parseInt), so that the timestamp we check for the future is the
 * one the SDK verified the signature with, and a malformed header can be explained precisely.
 * Verification itself is left to the SDK.
 *
 * @example
 * parseSignatureHeader("t=1591264652,v1=1f0d…,v0=20d7…"); // { timestamp: 1591264652, v1Count: 1, hasV0: true }
 */
export function parseSignatureHeader(header: string): SignatureHeader {
  let timestamp: number | null = null;
  let v1Count = 0;
  let hasV0 = false;
  for (const item of header.split(",")) {
    const [key, value = ""] = item.split("=");
    if (key === "t") timestamp = Number.parseInt(value, 10);
    else if (key === "v1" && value !== "") v1Count++;
    else if (key === "v0") hasV0 = true;
  }
  return { timestamp: timestamp === null || Number.isNaN(timestamp) ? null : timestamp, v1Count, hasV0 };
}
