import { describe, expect, it } from "vitest";
import { TEST_SECRET } from "./helpers/deliver";
import { envWith, failingD1, INJECTED_ERROR_TEXT } from "./helpers/faults";
import { getHealth } from "./helpers/worker";

describe("GET /health", () => {
  it("answers 200 with each check when configured and D1 answers", async () => {
    const { status, body } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},whsec_second` }));
    expect(status).toBe(200);
    expect(body).toEqual({
      ok: true,
      checks: {
        webhook_secret: { ok: true, configured: 2 },
        settings: { ok: true },
        database: { ok: true, size_bytes: expect.any(Number), max_bytes: 10_000_000_000 },
        stripe_api: { ok: true, key_configured: false },
        endpoint: { ok: true, last_checked_at: null },
      },
    });
  });

  it("warns from 80 % of D1_MAX_BYTES and fails from 95 %, saying what to do", async () => {
    const size = (await getHealth()).body.checks.database.size_bytes as number;
    const warned = await getHealth(envWith({ D1_MAX_BYTES: String(Math.ceil(size / 0.85)) }));
    expect(warned.status).toBe(200);
    expect(warned.body.checks.database.warnings).toEqual([
      expect.stringMatching(/^The database holds .*, 85\.0 % of D1_MAX_BYTES .*LEDGER_RETENTION_DAYS/),
    ]);
    const failing = await getHealth(envWith({ D1_MAX_BYTES: String(size) }));
    expect(failing.status).toBe(503);
    expect(failing.body.checks.database).toMatchObject({ ok: false, message: expect.stringContaining("100.0 % of D1_MAX_BYTES") });
    expect((await getHealth()).body.checks.database.warnings).toBeUndefined();
  });

  it.each([
    ["LEDGER_RETENTION_DAYS", "2", /at least 3/],
    ["LEDGER_RETENTION_DAYS", "thirty", /whole number of days/],
    ["D1_MAX_BYTES", "10GB", /whole number of bytes/],
    ["STRIPE_WEBHOOK_TOLERANCE_SECONDS", "-1", /greater than 0/],
  ])("answers 503 config_invalid naming %s when it is %s", async (name, value, explanation) => {
    const { status, body } = await getHealth(envWith({ [name]: value } as Partial<Env>));
    expect(status).toBe(503);
    expect(body.checks.settings).toEqual({ ok: false, message: expect.stringMatching(new RegExp(`^config_invalid: ${name} `)) });
    expect(body.checks.settings.message).toMatch(explanation);
    expect(body.checks.webhook_secret.ok).toBe(true);
  });

  it("answers 503 naming the missing secret", async () => {
    const { status, body } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: "" }));
    expect(status).toBe(503);
    expect(body.ok).toBe(false);
    expect(body.checks.webhook_secret).toMatchObject({
      ok: false,
      configured: 0,
      message: expect.stringMatching(/^webhook_secret_missing: /),
    });
    expect(body.checks.database.ok).toBe(true);
  });

  it("answers 503 for a malformed secret without showing any secret value", async () => {
    const { status, body, text } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},sk_live_123456789` }));
    expect(status).toBe(503);
    expect(body.checks.webhook_secret.message).toMatch(/^webhook_secret_invalid: Entry 2 of 2/);
    expect(text).not.toContain(TEST_SECRET);
    expect(text).not.toContain("sk_live_123456789");
  });

  it("answers 503 when D1 does not answer", async () => {
    const { status, body, text } = await getHealth(envWith({ DB: failingD1() }));
    expect(status).toBe(503);
    expect(body.checks.database).toMatchObject({ ok: false, message: expect.stringContaining("migrations") });
    expect(text).not.toContain("injected");
    expect(text).not.toContain(INJECTED_ERROR_TEXT);
  });
});
