import { describe, expect, it, vi } from "vitest";
import { deliver, TEST_SECRET } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";

/** Every JSON line the Worker wrote to the console during `run`. */
async function logLines(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((line: unknown) => void lines.push(String(line)));
  }
  await run();
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe("structured delivery log", () => {
  it("writes one JSON line per accepted delivery with id, type, format, outcome and duration", async () => {
    const event = buildEvent("invoice.paid", OBJECTS.invoice);
    const lines = await logLines(() => deliver(event));
    const deliveries = lines.filter((l) => l.msg === "delivery");
    expect(deliveries).toEqual([
      {
        level: "info",
        msg: "delivery",
        event_id: event.id,
        type: "invoice.paid",
        format: "snapshot",
        outcome: "accepted",
        duration_ms: expect.any(Number),
      },
    ]);
  });

  it("logs a rejected delivery with its error code and nothing secret", async () => {
    const event = buildEvent("invoice.paid", OBJECTS.invoice);
    const lines = await logLines(() => deliver(event, { secrets: ["whsec_forged"] }));
    expect(lines.filter((l) => l.msg === "delivery")).toEqual([
      {
        level: "warn",
        msg: "delivery",
        event_id: null,
        type: null,
        format: "snapshot",
        outcome: "signature_invalid",
        duration_ms: expect.any(Number),
        // For the operator only: the response says neither.
        secrets_configured: 1,
        secrets_expired: 0,
      },
    ]);
    const text = JSON.stringify(lines);
    expect(text).not.toContain(TEST_SECRET);
    expect(text).not.toContain("whsec_forged");
  });

  it("logs a body refused for its size like any other rejected delivery", async () => {
    const lines = await logLines(() => deliver("x".repeat(1024 * 1024 + 1), { signature: "t=1,v1=00" }));
    expect(lines.filter((l) => l.msg === "delivery")).toEqual([
      { level: "warn", msg: "delivery", event_id: null, type: null, format: "snapshot", outcome: "payload_too_large", duration_ms: 0 },
    ]);
  });
});
