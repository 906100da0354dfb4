import { describe, expect, it } from "vitest";
import { Handlers } from "../src/handlers/registry";
import { createWorker } from "../src/worker";
import { TEST_SECRET } from "./helpers/deliver";
import { envWith, failingD1, INJECTED_ERROR_TEXT } from "./helpers/faults";
import { observedD1 } from "./helpers/observed-d1";
import { callWorker, getHealth, getPublicHealth } from "./helpers/worker";

describe("the operator's health report (GET /admin/api/health)", () => {
  it("is ok with each check when configured and D1 answers", async () => {
    const { body } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},whsec_second` }));
    expect(body.ok).toBe(true);
    expect(body).toEqual({
      ok: true,
      code: null,
      checks: {
        webhook_secret: { ok: true, configured: 2 },
        settings: { ok: true },
        database: { ok: true, size_bytes: expect.any(Number), max_bytes: 10_000_000_000 },
        stripe_api: { ok: true, key_configured: false },
        endpoint: { ok: true, last_checked_at: null },
        capacity: {
          ok: true,
          retention_days: 7,
          archive: true,
          // 7 days of 10M events a month hold 4.9 GB; the archive's catalogue grows by 32 MB a month.
          months_until_full: { "1M": 2971.7, "10M": 159.2, "30M": 0 },
          months_until_full_every_event_a_new_object: { "1M": 48.9, "10M": 2.6, "30M": 0 },
          events_per_month_held: 20_395_001,
          basis: expect.stringMatching(/^2132 bytes per event in the ledger, 3.2 per archived event .*, 191 per new object/),
          warnings: ["At 30M events a month, 7 days of events would not fit in D1_MAX_BYTES, or see docs/SCALING.md."],
        },
      },
    });
  });

  it("warns from 80 % of D1_MAX_BYTES and fails from 95 %, saying what to do", async () => {
    const size = (await getHealth()).body.checks.database.size_bytes as number;
    const warned = await getHealth(envWith({ D1_MAX_BYTES: String(Math.ceil(size / 0.85)) }));
    expect(warned.body.ok).toBe(true);
    expect(warned.body.checks.database.warnings).toEqual([
      expect.stringMatching(/^The database holds .*, 85\.0 % of D1_MAX_BYTES .*LEDGER_RETENTION_DAYS/),
    ]);
    const failing = await getHealth(envWith({ D1_MAX_BYTES: String(size) }));
    expect(failing.body.ok).toBe(false);
    expect(failing.body.checks.database).toMatchObject({ ok: false, message: expect.stringContaining("100.0 % of D1_MAX_BYTES") });
    expect((await getHealth()).body.checks.database.warnings).toBeUndefined();
  });

  it.each([
    ["LEDGER_RETENTION_DAYS", "2", /at least 3/],
    ["LEDGER_RETENTION_DAYS", "thirty", /whole number of days/],
    ["D1_MAX_BYTES", "10GB", /whole number of bytes/],
    ["STRIPE_WEBHOOK_TOLERANCE_SECONDS", "-1", /from 1 to 3600/],
    ["STRIPE_WEBHOOK_TOLERANCE_SECONDS", "3601", /a longer one would let a captured delivery be replayed/],
    ["STRIPE_MODE", "", /is not set/],
    ["STRIPE_MODE", "production", /must be live or test/],
    ["STRIPE_API_RATE", "0", /from 1 to 1000/],
    ["STRIPE_CONNECT_BILLING", "yes", /true or false/],
    ["STRIPE_SECRET_KEY", "rk_live_from_the_wrong_mode", /a live-mode key, but STRIPE_MODE is test/],
  ])("fails config_invalid naming %s when it is %s", async (name, value, explanation) => {
    const { body } = await getHealth(envWith({ [name]: value } as Partial<Env>));
    expect(body.ok).toBe(false);
    expect(body.checks.settings).toEqual({ ok: false, message: expect.stringMatching(new RegExp(`^config_invalid: ${name} `)) });
    expect(body.checks.settings.message).toMatch(explanation);
    expect(body.checks.webhook_secret.ok).toBe(true);
  });

  it("fails naming the missing secret", async () => {
    const { body } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: "" }));
    expect(body.ok).toBe(false);
    expect(body.checks.webhook_secret).toMatchObject({
      ok: false,
      configured: 0,
      message: expect.stringMatching(/^webhook_secret_missing: /),
    });
    expect(body.checks.database.ok).toBe(true);
  });

  it("fails for a malformed secret without showing any secret value", async () => {
    const { body, text } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},sk_live_123456789` }));
    expect(body.ok).toBe(false);
    expect(body.checks.webhook_secret.message).toMatch(/^webhook_secret_invalid: Entry 2 of 2/);
    expect(text).not.toContain(TEST_SECRET);
    expect(text).not.toContain("sk_live_123456789");
  });

  it("fails storage_unavailable when D1 does not answer", async () => {
    const { body, text } = await getHealth(envWith({ DB: failingD1() }));
    expect(body.ok).toBe(false);
    expect(body.checks.database).toMatchObject({ ok: false, message: expect.stringContaining("migrations") });
    expect(text).not.toContain("injected");
    expect(text).not.toContain(INJECTED_ERROR_TEXT);
  });
});

describe("GET /health (anyone)", () => {
  it("answers 200 with nothing but the status when the Worker can verify and record deliveries", async () => {
    const { status, body } = await getPublicHealth(envWith({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},whsec_second@2030-01-01T00:00:00Z` }));
    expect(status).toBe(200);
    expect(body).toEqual({ status: "ok" });
  });

  it.each([
    ["no secret", { STRIPE_WEBHOOK_SECRET: "" }, "webhook_secret_missing"],
    ["a malformed secret", { STRIPE_WEBHOOK_SECRET: "sk_live_123456789" }, "webhook_secret_invalid"],
    ["every secret expired", { STRIPE_WEBHOOK_SECRET: `${TEST_SECRET}@2020-01-01T00:00:00Z` }, "webhook_secret_invalid"],
    ["a refused setting", { LEDGER_RETENTION_DAYS: "2" }, "config_invalid"],
    ["no STRIPE_MODE", { STRIPE_MODE: "" }, "config_invalid"],
    ["D1 not answering", { DB: failingD1() }, "storage_unavailable"],
    ["a full database", { D1_MAX_BYTES: "1" }, "database_full"],
  ])("answers 503 degraded with one stable code and no detail for %s", async (_name, overrides, code) => {
    const { status, body } = await getPublicHealth(envWith(overrides as Partial<Env>));
    expect(status).toBe(503);
    expect(body).toEqual({ status: "degraded", error: { code, message: expect.stringContaining("GET /admin/api/health") } });
    const text = JSON.stringify(body);
    for (const secret of [TEST_SECRET, "sk_live_123456789", INJECTED_ERROR_TEXT]) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/LEDGER_RETENTION_DAYS|STRIPE_MODE|Entry \d|2020|size_bytes|"configured"/);
  });

  it("reads D1 at most once per 10 s per isolate, however many requests flood it", async () => {
    const { db, statements } = observedD1();
    const flooded = envWith({ DB: db });
    let now = 1_800_000_000_000;
    const worker = createWorker({ handlers: new Handlers(), now: () => now });
    const flood = () => Promise.all(Array.from({ length: 50 }, () => callWorker("/health", { env: flooded, worker })));
    for (const response of await flood()) expect(response.status).toBe(200);
    expect(statements).toHaveLength(1);
    now += 9_999;
    await flood();
    expect(statements).toHaveLength(1);
    now += 1;
    await flood();
    expect(statements).toHaveLength(2);
  });
});

describe("the health report's capacity plan", () => {
  it.each([
    ["30 days, no archive: the ledger alone never fills, billing rows do", { ARCHIVE: undefined }, 30, { "1M": null, "10M": 0, "30M": 0 }],
    ["7 days with the archive", {}, 7, { "1M": 2971.7, "10M": 159.2, "30M": 0 }],
    ["4 days with the archive: 30M a month fits", { LEDGER_RETENTION_DAYS: "4" }, 4, { "1M": 3037.4, "10M": 224.9, "30M": 16.6 }],
    ["retention off: everything stays", { LEDGER_RETENTION_DAYS: "0" }, 0, { "1M": 4.6, "10M": 0.4, "30M": 0.1 }],
  ] as const)("%s", async (_name, vars, days, months) => {
    const { body } = await getHealth(envWith(vars as Partial<Env>));
    expect(body.checks.capacity).toMatchObject({ retention_days: days, months_until_full: months });
  });

  it("warns, naming the way out, when a rate's retention window alone would not fit", async () => {
    const { body } = await getHealth(envWith({ ARCHIVE: undefined }));
    expect(body.ok).toBe(true);
    expect(body.checks.capacity.warnings).toEqual([
      "At 10M or 30M events a month, 30 days of events would not fit in D1_MAX_BYTES: bind the ARCHIVE bucket and keep 7 days, " +
        "or see docs/SCALING.md.",
    ]);
  });
});
