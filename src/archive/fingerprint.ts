// How an archived event id is found without reading the archive: each part's ids as 3-byte fingerprints
// (bytes 4–6 of the id's SHA-256), grouped by the top `bits` bits of the hash into 2^bits buckets of
// 64 to 127 ids (BUCKET_TARGET), one `archive_index` row each. A lookup computes the id's bucket at every
// bucket size a part may have used and reads those rows only: one small row per part, never a part's
// object unless its row holds the fingerprint. A part of 2,000 events writes 16 rows of about 125
// fingerprints (≈ 3.3 bytes and 0.008 rows written per event); a row matches an id it does not hold
// about once in 50,000 (the part is then opened for nothing; an id it holds is never missed).

/** Bytes of the hash kept per id. */
export const FINGERPRINT_BYTES = 3;
/** The largest bucket split: parts of up to 65,536 ids still get buckets of about BUCKET_TARGET. */
export const MAX_BUCKET_BITS = 10;
/** Ids per bucket aimed at: fewer means more rows written per part, more means longer rows to read. */
const BUCKET_TARGET = 64;

/** An id's place in the index: the top 32 bits of its hash, and its fingerprint. */
export interface IdHash {
  top: number;
  fingerprint: Uint8Array;
}

/**
 * The hash of an event id (SHA-256, through WebCrypto).
 *
 * @example
 * const { top, fingerprint } = await hashId("evt_123");
 */
export async function hashId(id: string): Promise<IdHash> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(id)));
  const top = ((digest[0]! << 24) | (digest[1]! << 16) | (digest[2]! << 8) | digest[3]!) >>> 0;
  return { top, fingerprint: digest.slice(4, 4 + FINGERPRINT_BYTES) };
}

/** The bucket of a hash when a part splits its ids into 2^`bits` buckets. */
function bucketOf(top: number, bits: number): number {
  return bits === 0 ? 0 : top >>> (32 - bits);
}

/**
 * How many bits a part of `count` ids splits its buckets by: about BUCKET_TARGET ids a bucket.
 *
 * @example
 * bucketBits(2000); // 4: 16 buckets of about 125 ids
 */
export function bucketBits(count: number): number {
  return Math.max(0, Math.min(MAX_BUCKET_BITS, Math.floor(Math.log2(Math.max(1, count) / BUCKET_TARGET))));
}

/**
 * The index rows of a part's ids: one per non-empty bucket, its fingerprints concatenated.
 *
 * @example
 * const rows = await fingerprintRows(lines.map((l) => l.id));
 */
export async function fingerprintRows(ids: readonly string[]): Promise<{ bits: number; bucket: number; fingerprints: Uint8Array }[]> {
  const bits = bucketBits(ids.length);
  const buckets = new Map<number, Uint8Array[]>();
  for (const { top, fingerprint } of await Promise.all(ids.map(hashId))) {
    const bucket = bucketOf(top, bits);
    buckets.set(bucket, [...(buckets.get(bucket) ?? []), fingerprint]);
  }
  return [...buckets].map(([bucket, prints]) => {
    const fingerprints = new Uint8Array(prints.length * FINGERPRINT_BYTES);
    for (const [i, p] of prints.entries()) fingerprints.set(p, i * FINGERPRINT_BYTES);
    return { bits, bucket, fingerprints };
  });
}

/**
 * Where to look for an id: its bucket at every split a part may use, and its fingerprint.
 *
 * @example
 * const { buckets, fingerprint } = await lookupKeys("evt_123"); // buckets: [[0, 0], [1, 0 or 1], …]
 */
export async function lookupKeys(id: string): Promise<{ buckets: [number, number][]; fingerprint: Uint8Array }> {
  const { top, fingerprint } = await hashId(id);
  const buckets = Array.from({ length: MAX_BUCKET_BITS + 1 }, (_, bits) => [bits, bucketOf(top, bits)] as [number, number]);
  return { buckets, fingerprint };
}
