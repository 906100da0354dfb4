import { describe, expect, it } from "vitest";
import { adminApi, adminEnv } from "./helpers/admin";
import { deliver } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { seedEvent, setRow } from "./helpers/ledger";

// Its own file, so that the ledger holds only the rows these tests stage.
async function stats(testEnv: Env = adminEnv()): Promise<any> {
  const { status, body } = await adminApi("/stats", { env: testEnv });
  expect(status).toBe(200);
  return body;
}

async function staged(type: string, columns: Record<string, string | number | null>, receivedAt = Date.now()): Promise<string> {
  const e = buildEvent(type, OBJECTS.customer);
  await seedEvent(e, receivedAt);
  await setRow(e.id, columns);
  return e.id;
}

describe("GET /admin/api/stats", () => {
  it("counts unfinished and dead events exactly, whatever their age, and final ones over the last 24 hours", async () => {
    const dayAgo = Date.now() - 25 * 3600_000;
    // Old rows: the earliest arrivals. The failed one is the oldest unprocessed event.
    const oldestFailed = await staged("customer.old", { status: "failed", redrive_at: Date.now() + 3600_000 }, dayAgo);
    await staged("customer.old", { status: "dead", redrive_at: null }, dayAgo + 1);
    await staged("customer.old", { status: "processed", redrive_at: null }, dayAgo + 2);
    // Today's rows.
    await staged("customer.recent", { status: "received" });
    await staged("customer.recent", { status: "processed", redrive_at: null });
    await staged("customer.recent", { status: "ignored", redrive_at: null });

    const body = await stats();
    expect(body.unfinished).toEqual({ received: 1, processing: 0, failed: 1, dead: 1 });
    expect(body.last_24h.by_status).toEqual({ received: 1, processing: 0, processed: 1, ignored: 1, failed: 0, dead: 0 });
    expect(body.last_24h.by_type).toEqual([{ type: "customer.recent", count: 3 }]);
    expect(body.oldest_unprocessed).toEqual({ id: oldestFailed, status: "failed", received_at: new Date(dayAgo).toISOString() });
    expect(body.database).toEqual({ size_bytes: expect.any(Number), max_bytes: 10_000_000_000 });
    expect(body.database.size_bytes).toBeGreaterThan(0);
  });

  it("counts deliveries by the position of the secret that verified them", async () => {
    const rotEnv = adminEnv({ STRIPE_WEBHOOK_SECRET: "whsec_new_one,whsec_old_one" });
    const before = (await stats(rotEnv)).last_24h.by_secret_index.find((s: any) => s.secret_index === 1)?.count ?? 0;
    expect((await deliver(buildEvent("customer.created", OBJECTS.customer), { secrets: ["whsec_old_one"], env: rotEnv })).status).toBe(200);
    const after = (await stats(rotEnv)).last_24h.by_secret_index.find((s: any) => s.secret_index === 1);
    expect(after).toEqual({ secret_index: 1, count: before + 1, last_received_at: expect.any(String) });
  });
});
