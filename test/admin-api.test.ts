import { describe, expect, it, vi } from "vitest";
import { adminApi } from "./helpers/admin";
import { deliver } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { ledgerRow, seedEvent, setRow } from "./helpers/ledger";

/** Seeds an event with a unique type (so each test filters to its own rows) in the given status. */
async function staged(type: string, status: string, receivedAt: number, lastError: string | null = null): Promise<string> {
  const e = buildEvent(type, OBJECTS.customer);
  await seedEvent(e, receivedAt);
  await setRow(e.id, { status, last_error: lastError, redrive_at: null });
  return e.id;
}

describe("GET /admin/api/events", () => {
  it(
    "lists newest arrival first and pages with a cursor without skipping or repeating rows, " + "same-millisecond arrivals included",
    async () => {
      const type = "customer.test_paging";
      const t = 1_800_000_000_000;
      // Arrival order is insertion order: two rows in one millisecond still get distinct positions.
      const ids = [
        await staged(type, "processed", t),
        await staged(type, "processed", t),
        await staged(type, "dead", t + 1),
        await staged(type, "failed", t + 5),
      ];
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const { status, body } = await adminApi(`/events?type=${type}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
        expect(status).toBe(200);
        seen.push(...body.events.map((e: any) => e.id));
        cursor = body.next_cursor;
      } while (cursor);
      expect(seen).toEqual([...ids].reverse());
    },
  );

  it.each([
    ["status", "status=dead", ["dead"], 0],
    ["several statuses", "status=dead,failed", ["dead", "failed"], 1],
    ["arrival time range", "from=2027-01-{day}T08:00:00Z&to=2027-01-{day}T08:00:00.002Z", ["processed", "dead"], 2],
  ])("filters by %s", async (_name, query, statuses, day) => {
    const type = `customer.test_filter_${_name.replaceAll(" ", "_")}`;
    const t = Date.parse(`2027-01-${16 + day}T08:00:00Z`);
    await staged(type, "processed", t);
    await staged(type, "dead", t + 2);
    await staged(type, "failed", t + 10_000);
    const { body } = await adminApi(`/events?type=${type}&${query.replaceAll("{day}", String(16 + day))}`);
    expect(body.events.map((e: any) => e.status).sort()).toEqual([...statuses].sort());
    expect(body.events.every((e: any) => e.type === type)).toBe(true);
  });
});

describe("GET /admin/api/events/:id", () => {
  it("returns the event with its parsed payload and last error", async () => {
    const id = await staged("customer.test_detail", "dead", Date.now(), "TypeError: handler exploded");
    const { status, body } = await adminApi(`/events/${id}`);
    expect(status).toBe(200);
    expect(body.event).toMatchObject({
      id,
      status: "dead",
      last_error: "TypeError: handler exploded",
      payload: { id, type: "customer.test_detail" },
    });
  });
});

describe("POST /admin/api/events/:id/replay", () => {
  it("puts a dead event back on the queue, which processes it", async () => {
    const e = buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);
    expect((await deliver(e)).status).toBe(200);
    await vi.waitFor(async () => expect((await ledgerRow(e.id))?.status).toBe("processed"), { timeout: 10_000, interval: 100 });
    await setRow(e.id, { status: "dead", attempts: 10, last_error: "Error: staged", redrive_at: null });

    const { status, body } = await adminApi(`/events/${e.id}/replay`, { method: "POST" });
    expect(status).toBe(200);
    expect(body).toEqual({ replayed: 1, id: e.id, status: "received" });
    await vi.waitFor(async () => expect(await ledgerRow(e.id)).toMatchObject({ status: "processed", attempts: 1, last_error: null }), {
      timeout: 10_000,
      interval: 100,
    });
  });
});

describe("POST /admin/api/replay", () => {
  it("replays dead and failed events matching the filter in bounded batches with a cursor", async () => {
    const type = "customer.test_bulk_replay";
    const t = 1_810_000_000_000; // after every other row of this file, so arrival order is time order
    const replayable = [await staged(type, "dead", t), await staged(type, "failed", t + 1), await staged(type, "dead", t + 2)];
    const untouched = await staged(type, "processed", t + 3);
    const first = await adminApi(`/replay?type=${type}&limit=2`, { method: "POST" });
    expect(first.body).toMatchObject({ replayed: 2, next_cursor: expect.any(String) });
    const second = await adminApi(`/replay?type=${type}&limit=2&cursor=${first.body.next_cursor}`, { method: "POST" });
    expect(second.body).toMatchObject({ replayed: 1, next_cursor: null });
    expect([...first.body.ids, ...second.body.ids].sort()).toEqual([...replayable].sort());
    expect((await ledgerRow(untouched))?.status).toBe("processed");
    // A type no handler knows ends `ignored`: each replayed event went through the consumer again.
    for (const id of replayable)
      await vi.waitFor(async () => expect((await ledgerRow(id))?.status).toBe("ignored"), { timeout: 10_000, interval: 100 });
  });
});

describe("DELETE /admin/api/events/:id and POST /admin/api/purge", () => {
  it("purges a dead event for good and refuses to purge a processed one", async () => {
    const t = 1_820_000_000_000;
    const dead = await staged("customer.test_purge_one", "dead", t);
    const processed = await staged("customer.test_purge_one", "processed", t + 1);
    expect((await adminApi(`/events/${dead}`, { method: "DELETE" })).body).toEqual({ purged: 1, id: dead });
    expect(await ledgerRow(dead)).toBeNull();
    const refused = await adminApi(`/events/${processed}`, { method: "DELETE" });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toEqual({
      code: "replay_not_allowed",
      message: `Event ${processed} is processed; only dead or failed events can be purged.`,
    });
    expect((await ledgerRow(processed))?.status).toBe("processed");
  });

  it("purges the dead and failed events matching a filter in bounded batches, never others", async () => {
    const type = "customer.test_bulk_purge";
    const t = 1_830_000_000_000;
    const doomed = [await staged(type, "dead", t), await staged(type, "failed", t + 1), await staged(type, "dead", t + 2)];
    const kept = await staged(type, "ignored", t + 3);
    await staged("customer.test_bulk_purge_other", "dead", t + 4);
    const first = await adminApi(`/purge?type=${type}&limit=2`, { method: "POST" });
    expect(first.body).toMatchObject({ purged: 2, next_cursor: expect.any(String) });
    const second = await adminApi(`/purge?type=${type}&limit=2&cursor=${first.body.next_cursor}`, { method: "POST" });
    expect(second.body).toMatchObject({ purged: 1, next_cursor: null });
    expect([...first.body.ids, ...second.body.ids].sort()).toEqual([...doomed].sort());
    expect((await ledgerRow(kept))?.status).toBe("ignored");
  });
});
