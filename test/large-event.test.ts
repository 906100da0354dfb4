import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { deliver } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { ledgerRow, payloadText } from "./helpers/ledger";

describe("events larger than a queue message", () => {
  it("carries a 200 KB event end to end, the queue holding only its id", async () => {
    const session = structuredClone(OBJECTS["checkout.session"]) as Record<string, unknown>;
    // Stripe allows 50 metadata keys of up to 500 characters; line items and custom fields make real
    // events large. Pad metadata until the body is over 200 KB, past the 128 KB queue message limit.
    session.metadata = Object.fromEntries(Array.from({ length: 420 }, (_, i) => [`key_${i}`, "x".repeat(490)]));
    const event = buildEvent("checkout.session.completed", session);
    const body = JSON.stringify(event);
    expect(body.length).toBeGreaterThan(200 * 1024);

    const response = await deliver(body);
    expect(response.status).toBe(200);
    await vi.waitFor(async () => expect((await ledgerRow(event.id))?.status).toBe("processed"), { timeout: 10_000, interval: 100 });
    // Final, the row holds the payload compressed in the statement that finished it; read back, it is the body as received.
    const row = (await ledgerRow(event.id))!;
    expect(row.payload_encoding).toBe("gzip");
    expect(await payloadText(row)).toBe(body);
    const { stored } = (await env.DB.prepare("SELECT length(payload) AS stored FROM stripe_events WHERE id = ?")
      .bind(event.id)
      .first<{ stored: number }>())!;
    expect(stored).toBeLessThan(body.length / 2);
  });
});
