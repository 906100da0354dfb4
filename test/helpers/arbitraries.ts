import fc from "fast-check";

/** Printable ASCII: what survives as an HTTP header value (the Headers class refuses control bytes). */
export const printableChar = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));

export const headerValue = fc.string({ unit: printableChar, maxLength: 160 });

/** A header value without commas, so it stays one entry of a `Stripe-Signature` list. */
const entryValue = fc.string({ unit: printableChar.filter((c) => c !== ","), maxLength: 80 });

export const headerName = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,24}$/);

export const hex = (length: number) => fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length });

/**
 * A `Stripe-Signature` header made by someone without the secret: well-formed entries with
 * plausible timestamps and made-up signatures, mixed with junk; or any printable string.
 */
export function forgedSignatureHeader(nowSeconds: number): fc.Arbitrary<string> {
  const entry = fc.oneof(
    fc.integer({ min: -900, max: 900 }).map((d) => `t=${nowSeconds + d}`),
    fc.nat().map((t) => `t=${t}`),
    hex(64).map((h) => `v1=${h}`),
    entryValue.map((v) => `v1=${v}`),
    hex(64).map((h) => `v0=${h}`),
    entryValue,
  );
  return fc.oneof(
    fc.array(entry, { maxLength: 6 }).map((entries) => entries.join(",")),
    headerValue,
  );
}

/** Any body a client could post: raw bytes (often invalid UTF-8), Unicode text, JSON, or event-shaped JSON. */
export const anyBody: fc.Arbitrary<Uint8Array | string> = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }),
  fc.string({ unit: "grapheme", maxLength: 400 }),
  fc.json({ maxDepth: 3 }),
  fc
    .record({
      id: fc.string().map((s) => `evt_${s}`),
      type: fc.constantFrom("invoice.paid", "checkout.session.completed", "customer.created"),
      created: fc.nat(),
      object: fc.constant("event"),
    })
    .map((e) => JSON.stringify(e)),
);

/** Extra request headers, any name (including Stripe's own) with any printable value. */
export const extraHeaders = fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 });

/** One byte-level edit of a byte string; positions are taken modulo its length when applied. */
export type ByteMutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "replace"; at: number; byte: number }
  | { kind: "insert"; at: number; bytes: number[] }
  | { kind: "delete"; at: number; length: number }
  | { kind: "truncate"; at: number }
  | { kind: "swap"; at: number; with: number };

/** Edits over all byte values (for bodies) or over `alphabet` (for header text). */
export function byteMutation(alphabet: fc.Arbitrary<number> = fc.integer({ min: 0, max: 255 }), flips = true): fc.Arbitrary<ByteMutation> {
  const at = fc.nat();
  const kinds: fc.Arbitrary<ByteMutation>[] = [
    fc.record({ kind: fc.constant("replace" as const), at, byte: alphabet }),
    fc.record({ kind: fc.constant("insert" as const), at, bytes: fc.array(alphabet, { minLength: 1, maxLength: 4 }) }),
    fc.record({ kind: fc.constant("delete" as const), at, length: fc.integer({ min: 1, max: 8 }) }),
    fc.record({ kind: fc.constant("truncate" as const), at }),
    fc.record({ kind: fc.constant("swap" as const), at, with: fc.nat() }),
  ];
  if (flips) kinds.push(fc.record({ kind: fc.constant("flip" as const), at, bit: fc.integer({ min: 0, max: 7 }) }));
  return fc.oneof(...kinds);
}

/** Applies edits in order; `insert` may append (position up to the length), the others hit an existing byte. */
export function applyMutations(input: Uint8Array, mutations: readonly ByteMutation[]): Uint8Array {
  let bytes = [...input];
  for (const m of mutations) {
    const n = bytes.length;
    if (m.kind === "insert") {
      const i = m.at % (n + 1);
      bytes = [...bytes.slice(0, i), ...m.bytes, ...bytes.slice(i)];
      continue;
    }
    if (n === 0) continue;
    const i = m.at % n;
    if (m.kind === "flip") bytes[i] = bytes[i]! ^ (1 << m.bit);
    else if (m.kind === "replace") bytes[i] = m.byte;
    else if (m.kind === "delete") bytes.splice(i, m.length);
    else if (m.kind === "truncate") bytes = bytes.slice(0, i);
    else {
      const j = m.with % n;
      [bytes[i], bytes[j]] = [bytes[j]!, bytes[i]!];
    }
  }
  return Uint8Array.from(bytes);
}
