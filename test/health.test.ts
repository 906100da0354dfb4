import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import { TEST_SECRET } from "./helpers/deliver";
import { envWith, failingD1 } from "./helpers/faults";

async function health(testEnv: Env = env): Promise<{ status: number; body: any; text: string }> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request("https://worker.example/health"), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), text };
}

describe("GET /health", () => {
  it("answers 200 with each check when configured and D1 answers", async () => {
    const { status, body } = await health(envWith({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},whsec_second` }));
    expect(status).toBe(200);
    expect(body).toEqual({ ok: true, checks: { webhook_secret: { ok: true, configured: 2 }, database: { ok: true } } });
  });

  it("answers 503 naming the missing secret", async () => {
    const { status, body } = await health(envWith({ STRIPE_WEBHOOK_SECRET: "" }));
    expect(status).toBe(503);
    expect(body.ok).toBe(false);
    expect(body.checks.webhook_secret).toMatchObject({ ok: false, configured: 0, message: expect.stringMatching(/^webhook_secret_missing: /) });
    expect(body.checks.database.ok).toBe(true);
  });

  it("answers 503 for a malformed secret without showing any secret value", async () => {
    const { status, body, text } = await health(envWith({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},sk_live_123456789` }));
    expect(status).toBe(503);
    expect(body.checks.webhook_secret.message).toMatch(/^webhook_secret_invalid: Entry 2 of 2/);
    expect(text).not.toContain(TEST_SECRET);
    expect(text).not.toContain("sk_live_123456789");
  });

  it("answers 503 when D1 does not answer", async () => {
    const { status, body, text } = await health(envWith({ DB: failingD1() }));
    expect(status).toBe(503);
    expect(body.checks.database).toMatchObject({ ok: false, message: expect.stringContaining("migrations") });
    expect(text).not.toContain("injected outage");
  });
});
