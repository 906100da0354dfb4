import { env } from "cloudflare:workers";
import { readPart } from "../../src/archive/part";
import { seqAt } from "../../src/ledger/event";

// What the archive tests seed and check: final rows made old by SQL, and what the archive's committed
// parts hold, read back from R2.

let seeded = 0;

/**
 * Inserts `count` final ledger rows with JSON payloads, arriving from `fromMs` one every `stepMs`, in
 * one statement (a recursive CTE: a million rows in a few seconds). Returns their ids' prefix: row `i`
 * is `<prefix>_<i>`.
 *
 * @example
 * const prefix = await seedFinal(5000, Date.now() - 40 * 86_400_000, 1000);
 */
export async function seedFinal(
  count: number,
  fromMs: number,
  stepMs: number,
  options: { status?: string; payloadBytes?: number } = {},
): Promise<string> {
  const prefix = `evt_seed${++seeded}x${crypto.randomUUID().slice(0, 8)}`;
  const filler = "x".repeat(options.payloadBytes ?? 40);
  await env.DB.prepare(
    `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ${count - 1})
     INSERT INTO stripe_events (seq, id, type, livemode, created, received_at, status, processed_at, object_id, payload)
     SELECT (${fromMs} + i * ${stepMs}) * 1000 + ${seeded}, '${prefix}_' || i, 'customer.updated', 0, ${Math.floor(fromMs / 1000)},
            ${fromMs} + i * ${stepMs}, '${options.status ?? "processed"}', ${fromMs} + i * ${stepMs} + 250, 'cus_' || i,
            '{"id":"${prefix}_' || i || '","object":"event","type":"customer.updated","filler":"${filler}"}'
     FROM n`,
  ).run();
  return prefix;
}

/** How many ledger rows there are whose id starts with `prefix`. */
export async function ledgerCountWith(prefix: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM stripe_events WHERE id >= ? AND id < ?")
    .bind(`${prefix}_`, `${prefix}_\uffff`)
    .first<{ n: number }>();
  return row!.n;
}

/** The committed parts (`done`, `listed`) as the catalogue lists them. */
export async function committedParts(): Promise<{ id: number; key: string; hour: number; lines: number; events: number }[]> {
  const { results } = await env.DB.prepare(
    "SELECT id, key, hour, lines, events FROM archive_parts WHERE state != 'writing' ORDER BY id",
  ).all<{
    id: number;
    key: string;
    hour: number;
    lines: number;
    events: number;
  }>();
  return results;
}

/**
 * Every event id in the committed parts, with how many parts hold it, read from R2 (what a restore of
 * everything would go through).
 */
export async function archivedIds(bucket: R2Bucket = env.ARCHIVE): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  for (const part of await committedParts()) {
    const lines = await readPart(bucket, part.key);
    if (lines === null) throw new Error(`committed part ${part.key} is not in R2`);
    for (const line of lines) ids.set(line.id, (ids.get(line.id) ?? 0) + 1);
  }
  return ids;
}

/** Every object key under the archive's prefix in R2. */
export async function archiveKeys(bucket: R2Bucket = env.ARCHIVE): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: "ledger/", ...(cursor ? { cursor } : {}) });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/** Empties the archive: its catalogue in D1 and its objects in R2 (a test file's storage is shared by its tests). */
export async function clearArchive(): Promise<void> {
  await env.DB.batch([env.DB.prepare("DELETE FROM archive_parts"), env.DB.prepare("DELETE FROM archive_index")]);
  const keys = await archiveKeys();
  for (let i = 0; i < keys.length; i += 1000) await env.ARCHIVE.delete(keys.slice(i, i + 1000));
}

/** The arrival position `seq` of an arrival time (re-exported for the archive tests). */
export { seqAt };
