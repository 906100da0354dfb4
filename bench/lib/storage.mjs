import { perEvent } from "./ops.mjs";

// Bytes stored per event, from D1's own figure for the database size (`meta.size_after`: the file's
// pages, tables and indexes together) before and after some work on a fresh database.

/**
 * Runs `work()` and returns { result, storage }: the database's growth over the ledger rows that
 * work added, and the average payload those rows hold (the verified body, in bytes).
 */
export async function bytesPerEvent(server, work) {
  const snapshot = async () => ({
    size: await server.sizeBytes(),
    rows: (await server.sql("SELECT count(*) AS n FROM stripe_events"))[0].n,
  });
  const before = await snapshot();
  const result = await work();
  const after = await snapshot();
  const [{ payload }] = await server.sql("SELECT avg(length(CAST(payload AS BLOB))) AS payload FROM stripe_events");
  const events = after.rows - before.rows;
  return {
    result,
    storage: {
      events,
      sizeBefore: before.size,
      sizeAfter: after.size,
      perEvent: (after.size - before.size) / events,
      payloadBytes: payload,
    },
  };
}

const DAY_MS = 86_400_000;

/**
 * What the archive stores per event: every row of the database is made older than the retention
 * (moved back by the retention plus a day, through the host's own D1 connection), then the Worker's
 * cron runs until its retention has moved every final row but the newest to R2. Returns the events
 * archived, the R2 objects and bytes (parts and manifests), and what the archive's catalogue keeps in
 * D1 per event (`archive_parts` and the id fingerprints of `archive_index`, from their contents).
 */
export async function archiveBytes(server, retentionDays) {
  // The counting wrapper's totals, when the server runs it: what the archiving runs cost per archived row.
  const counts = async () => (await fetch(new URL("/__bench/counts", server.url))).json();
  const start = await counts();
  const shiftMs = (retentionDays + 1) * DAY_MS;
  await server.sql(`UPDATE stripe_events SET seq = seq - ${shiftMs * 1000}, received_at = received_at - ${shiftMs}`);
  const final = async () => (await server.sql("SELECT count(*) AS n FROM stripe_events WHERE status IN ('processed', 'ignored')"))[0].n;
  const before = await final();
  let runs = 0;
  for (let left = before; runs < 1000; runs++) {
    await server.scheduled();
    const now = await final();
    if (now === left || now <= 1) break;
    left = now;
  }
  const archived = before - (await final());
  const r2 = await server.r2Stats();
  const [parts] = await server.sql(
    "SELECT count(*) AS n, sum(lines) AS lines, sum(bytes) AS bytes FROM archive_parts WHERE state != 'writing'",
  );
  // A row of archive_index: its key (three small integers), the blob and SQLite's cell overhead (≈ 12 bytes).
  const [index] = await server.sql("SELECT count(*) AS rows, coalesce(sum(length(fingerprints) + 12), 0) AS bytes FROM archive_index");
  const cron = perEvent(start, await counts(), archived).cron;
  return {
    cron,
    runs: runs + 1,
    events: archived,
    objects: r2.objects,
    r2Bytes: r2.bytes,
    perEvent: r2.bytes / archived,
    parts: parts.n,
    partLines: parts.lines,
    indexRows: index.rows,
    indexBytesPerEvent: (index.bytes + parts.n * 120) / archived,
  };
}
