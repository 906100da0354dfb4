import type { StoredPayload } from "../schema";

// How the ledger stores a payload: the JSON text as received while the event may still be processed,
// gzip once it is final (about a third of the bytes for Stripe's events). Every reader goes through
// `decodePayload`, so replay, the console and the consumer on a re-drive see the same JSON either way.

/** The encodings `stripe_events.payload_encoding` may name; null is the JSON text as received. */
export type PayloadEncoding = "gzip" | null;

/**
 * The gzip bytes of a payload, through the Workers runtime's CompressionStream (zlib, native code).
 *
 * @example
 * const bytes = await gzipPayload(payload); // bound as a BLOB by the statement that finishes the event
 */
export async function gzipPayload(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * The JSON text of a stored payload, whatever its encoding: text as it is, gzip inflated. D1 hands a
 * BLOB back as an array of byte values; a Uint8Array or ArrayBuffer is taken too. Throws on bytes
 * that are not gzip (a corrupted row), which the caller reports like any storage error.
 *
 * @example
 * const json = await decodePayload(row.payload, row.payloadEncoding);
 */
export async function decodePayload(stored: StoredPayload, encoding: PayloadEncoding): Promise<string> {
  if (encoding === null) return typeof stored === "string" ? stored : new TextDecoder().decode(bytesOf(stored));
  if (typeof stored === "string") throw new TypeError(`A ledger payload marked ${encoding} is stored as text.`);
  const stream = new Blob([bytesOf(stored)]).stream().pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

function bytesOf(stored: Exclude<StoredPayload, string>): Uint8Array {
  return stored instanceof Uint8Array ? stored : new Uint8Array(stored);
}
