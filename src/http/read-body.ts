import { ApiError } from "../errors";

/** Stripe events are far smaller; a larger body is not from Stripe. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a request body as UTF-8 text without ever holding more than `limit` bytes: a declared
 * Content-Length over the limit is refused before reading, and a chunked body is cut off as soon as
 * it passes the limit.
 *
 * @example
 * const raw = await readBodyCapped(c.req.raw, MAX_BODY_BYTES);
 */
export async function readBodyCapped(request: Request, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  if (request.body === null) return "";

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return decodeUtf8(chunks, total);
}

function decodeUtf8(chunks: Uint8Array[], total: number): string {
  if (chunks.length === 1) return new TextDecoder().decode(chunks[0]);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function tooLarge(limit: number): ApiError {
  return new ApiError(
    "payload_too_large",
    `The request body is over ${limit / 1024 / 1024} MiB. Stripe events are much smaller, so this request did not come from Stripe.`,
  );
}
