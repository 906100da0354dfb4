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
