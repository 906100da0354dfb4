import { env } from "cloudflare:workers";

/** D1 binds at most 100 parameters per statement. */
const CHUNK = 100;

/** Which of `ids` have a ledger row: one query per hundred ids, so a property checks thousands at its end. */
export async function storedIds(ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const { results } = await env.DB.prepare(`SELECT id FROM stripe_events WHERE id IN (${chunk.map(() => "?").join(",")})`)
      .bind(...chunk)
      .all<{ id: string }>();
    for (const row of results) found.add(row.id);
  }
  return found;
}

/** The ledger rows of `ids`, keyed by id, read with plain SQL. */
export async function storedRows(ids: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
  const rows = new Map<string, Record<string, unknown>>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const { results } = await env.DB.prepare(`SELECT * FROM stripe_events WHERE id IN (${chunk.map(() => "?").join(",")})`)
      .bind(...chunk)
      .all<Record<string, unknown>>();
    for (const row of results) rows.set(row.id as string, row);
  }
  return rows;
}
