import { decodePayload } from "../db/ledger/payload";
import type { StripeEventRow } from "../db/schema";
import { type ArchiveLine, parseLine, toLine } from "./layout";

// A part's object: its rows as gzip JSON Lines, written whole (a part is at most PART_MAX_EVENTS rows,
// a few MB), and read whole when an event in it is looked up or restored.

/** Rows per part at most: about 1 MB of gzip for events of 3 KB, read whole by a lookup in tens of ms. */
export const PART_MAX_EVENTS = 2_000;

/**
 * The object for `rows` (payloads decoded first: a final row's is stored compressed), and the SHA-256
 * R2 checks it against, so a put that stored other bytes fails instead of succeeding. A row whose
 * stored payload cannot be decoded (damaged bytes; never written so) is left out and named in
 * `unreadable`: it stays in the ledger rather than stop the archive at it.
 *
 * @example
 * const { body, sha256, rows: archived } = await buildPart(rows);
 */
export async function buildPart(
  rows: readonly StripeEventRow[],
): Promise<{ body: Uint8Array; sha256: ArrayBuffer; rows: StripeEventRow[]; unreadable: string[] }> {
  const decoded = await Promise.all(rows.map((row) => decodePayload(row.payload, row.payloadEncoding).catch(() => null)));
  const kept: StripeEventRow[] = [];
  const lines: string[] = [];
  const unreadable: string[] = [];
  for (const [i, row] of rows.entries()) {
    const payload = decoded[i];
    if (payload === null || payload === undefined) unreadable.push(row.id);
    else {
      kept.push(row);
      lines.push(toLine(row, payload));
    }
  }
  const gzip = new Blob([`${lines.join("\n")}\n`]).stream().pipeThrough(new CompressionStream("gzip"));
  const body = new Uint8Array(await new Response(gzip).arrayBuffer());
  return { body, sha256: await crypto.subtle.digest("SHA-256", body), rows: kept, unreadable };
}

/**
 * The lines of a part, or null when the object is not in the bucket. `only` keeps just the line of
 * one event id (found by text before any line is parsed, so a lookup parses one line, not 2,000).
 *
 * @example
 * const [line] = (await readPart(bucket, key, "evt_123")) ?? [];
 */
export async function readPart(bucket: R2Bucket, key: string, only?: string): Promise<ArchiveLine[] | null> {
  const object = await bucket.get(key);
  if (object === null) return null;
  const text = await new Response(object.body.pipeThrough(new DecompressionStream("gzip"))).text();
  const needle = only === undefined ? null : `"id":${JSON.stringify(only)},`;
  const lines: ArchiveLine[] = [];
  for (const raw of text.split("\n")) {
    if (raw === "" || (needle !== null && !raw.includes(needle))) continue;
    const line = parseLine(raw);
    if (only === undefined || line.id === only) lines.push(line);
  }
  return lines;
}
