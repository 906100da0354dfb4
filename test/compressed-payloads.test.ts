import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { Handlers } from "../src/handlers/registry";
import { adminApi, consolePage } from "./helpers/admin";
import { buildEvent, OBJECTS, uid } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { clearLedger, ledgerRow, seedEvent, setRow } from "./helpers/ledger";
import { runBatch } from "./helpers/worker";

// The statement that makes an event final stores its payload gzip (issue 20); rows finished before
// that keep the text as received. Every reader must give the same JSON for both.

beforeEach(clearLedger);

/** A customer event with a marker of its own in the object, to find it in what a reader shows. */
function markedEvent() {
  const marker = uid("marker");
  const event = buildEvent("customer.created", { ...OBJECTS.customer, id: uid("cus"), metadata: { marker } });
  return { event, marker };
}

/** Handlers that record the object each customer.created handler run was given. */
function recording() {
  const seen: unknown[] = [];
  return { seen, handlers: new Handlers().on("customer.created", (customer) => void seen.push(customer)) };
}

const held = () => envWith({ EVENTS_QUEUE: heldQueue().queue });

/** One event processed by the consumer (stored gzip) and one made final as a row from before the change (text). */
async function bothKinds() {
  const gzip = markedEvent();
  await seedEvent(gzip.event);
  await runBatch([gzip.event.id], { handlers: new Handlers().on("customer.created", () => {}), env: held() });
  const text = markedEvent();
  await seedEvent(text.event);
  await setRow(text.event.id, { status: "processed", processed_at: Date.now(), attempts: 1 });
  expect(await ledgerRow(gzip.event.id)).toMatchObject({ status: "processed", payload_encoding: "gzip" });
  expect(await ledgerRow(text.event.id)).toMatchObject({ status: "processed", payload_encoding: null });
  return { gzip, text };
}

describe("a final event's payload, stored gzip or as text", () => {
  it("is answered by the admin API as the JSON received", async () => {
    const { gzip, text } = await bothKinds();
    for (const { event } of [gzip, text]) {
      const { status, body } = await adminApi(`/events/${event.id}`);
      expect(status).toBe(200);
      expect(body.event.payload).toEqual(event);
    }
  });

  it("is shown on the console's event page", async () => {
    const { gzip, text } = await bothKinds();
    for (const { event, marker } of [gzip, text]) {
      const { status, html } = await consolePage(`/admin/events/${event.id}`);
      expect(status).toBe(200);
      expect(html).toContain(marker);
    }
  });

  it("is what a replay's handlers get, the object as received", async () => {
    const { gzip, text } = await bothKinds();
    const { seen, handlers } = recording();
    for (const { event } of [gzip, text]) {
      const { status } = await adminApi(`/events/${event.id}/replay?allow_processed=true`, { method: "POST" });
      expect(status).toBe(200);
    }
    await runBatch([gzip.event.id, text.event.id], { handlers, env: held() });
    expect(seen).toEqual(expect.arrayContaining([gzip.event.data.object, text.event.data.object]));
    expect(seen).toHaveLength(2);
    // Processed again, both are now stored gzip.
    expect((await ledgerRow(text.event.id))?.payload_encoding).toBe("gzip");
  });

  it("stays as stored when the payload column holds bytes a reader cannot decode: only that event fails", async () => {
    const { gzip } = await bothKinds();
    await env.DB.prepare("UPDATE stripe_events SET payload = X'1f8b0000' WHERE id = ?").bind(gzip.event.id).run();
    const { status, body } = await adminApi(`/events/${gzip.event.id}`);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(body)).not.toMatch(/incorrect header|unexpected end|zlib|stack/i);
  });
});
