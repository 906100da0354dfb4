import { describe, expect, it } from "vitest";
import { deliver, TEST_SECRET } from "./helpers/deliver";
import { envWith } from "./helpers/faults";
import { ledgerRow } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import { getHealth } from "./helpers/worker";

const OLD = "whsec_old_rolled_secret";
const NEW = "whsec_new_current_secret";
const PAST = "2020-01-01T00:00:00Z";
const FAR = "2999-01-01T00:00:00Z";

function event(id: string) {
  return {
    id,
    object: "event",
    type: "customer.created",
    created: 1_700_000_000,
    livemode: false,
    api_version: "2026-10-28.clover",
    data: { object: { id: "cus_rot", object: "customer" } },
  };
}

describe("secret rotation with expiring entries", () => {
  it("refuses a delivery signed only with an expired secret, saying so, and names the entry only in the log line", async () => {
    const logs = captureLogs();
    const response = await deliver(event("evt_rot_expired_only"), {
      secrets: [OLD],
      env: envWith({ STRIPE_WEBHOOK_SECRET: `${NEW},${OLD}@${PAST}` }),
    });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(JSON.parse(text).error.code).toBe("signature_invalid");
    expect(JSON.parse(text).error.message).toMatch(/^This delivery is signed only with a configured secret that has expired/);
    // A stranger learns neither how many secrets there are, nor which one, nor when it expired.
    expect(text).not.toMatch(/2 of 2|2020|\bentry 2\b/);
    expect(text).not.toContain(OLD);
    expect(logs.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({
        msg: "delivery",
        outcome: "signature_invalid",
        secrets_configured: 2,
        secrets_expired: 1,
        secret_position: 2,
        expired_at: "2020-01-01T00:00:00.000Z",
      }),
    );
    expect(await ledgerRow("evt_rot_expired_only")).toBeNull();
  });

  it("accepts a delivery signed with both the new and the expired old secret, recording the new one's position", async () => {
    const response = await deliver(event("evt_rot_both"), {
      secrets: [NEW, OLD],
      env: envWith({ STRIPE_WEBHOOK_SECRET: `${OLD}@${PAST},${NEW}` }),
    });
    expect(response.status).toBe(200);
    expect((await ledgerRow("evt_rot_both"))?.secret_index).toBe(1);
  });

  it("still accepts the old secret before its expiry", async () => {
    const response = await deliver(event("evt_rot_before"), {
      secrets: [OLD],
      env: envWith({ STRIPE_WEBHOOK_SECRET: `${NEW},${OLD}@${FAR}` }),
    });
    expect(response.status).toBe(200);
    expect((await ledgerRow("evt_rot_before"))?.secret_index).toBe(1);
  });

  it("counts the configured and expired secrets in the log line, not the response, when no secret matches at all", async () => {
    const logs = captureLogs();
    const response = await deliver(event("evt_rot_none"), {
      secrets: ["whsec_unrelated"],
      env: envWith({ STRIPE_WEBHOOK_SECRET: `${NEW},${OLD}@${PAST}` }),
    });
    const body: any = await response.json();
    expect(response.status).toBe(400);
    expect(body.error.message).toMatch(/^No v1 signature in the Stripe-Signature header matches this body under the configured secrets\./);
    expect(body.error.message).not.toMatch(/\d configured|\(s\) have expired/);
    expect(logs.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ msg: "delivery", outcome: "signature_invalid", secrets_configured: 2, secrets_expired: 1 }),
    );
  });

  it.each([
    ["a date without a time zone", "2026-11-24T12:00:00"],
    ["an impossible date", "2026-02-30T12:00:00Z"],
    ["a date only", "2026-11-24"],
    ["a date with an offset", "2026-11-24T12:00:00+02:00"],
    ["a space instead of T", "2026-11-24 12:00:00Z"],
    ["an hour out of range", "2026-11-24T25:00:00Z"],
  ])("answers 500 webhook_secret_invalid naming the entry for an expiry that is %s", async (_name, expiry) => {
    const response = await deliver(event("evt_rot_bad_expiry"), {
      env: envWith({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},${OLD}@${expiry}` }),
    });
    const text = await response.text();
    expect(response.status).toBe(500);
    expect(JSON.parse(text).error).toMatchObject({
      code: "webhook_secret_invalid",
      message: expect.stringMatching(/^Entry 2 of 2 in STRIPE_WEBHOOK_SECRET has an expiry/),
    });
    expect(text).not.toContain(OLD);
  });
});

describe("entries without an expiry", () => {
  it("treats an @ not followed by a date as part of the secret", async () => {
    const odd = "whsec_odd@not-a-date";
    const response = await deliver(event("evt_rot_at_in_secret"), { secrets: [odd], env: envWith({ STRIPE_WEBHOOK_SECRET: odd }) });
    expect(response.status).toBe(200);
  });
});

describe("GET /health with expiring secrets", () => {
  it("stays 200 and warns by position when an entry has expired", async () => {
    const { body, text } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: `${NEW},${OLD}@${PAST}` }));
    expect(body.ok).toBe(true);
    expect(body.checks.webhook_secret).toEqual({
      ok: true,
      configured: 2,
      warnings: [expect.stringMatching(/^Entry 2 of 2 .* expired at 2020-01-01T00:00:00.000Z/)],
    });
    expect(text).not.toContain(OLD);
  });

  it("warns when an entry expires within 24 hours", async () => {
    const soon = `${new Date(Date.now() + 3600_000).toISOString().slice(0, 19)}Z`;
    const { body } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: `${OLD}@${soon},${NEW}` }));
    expect(body.ok).toBe(true);
    expect(body.checks.webhook_secret.warnings).toEqual([expect.stringMatching(/^Entry 1 of 2 .* expires at .*finish the roll/)]);
  });

  it("does not warn about an expiry more than 24 hours away", async () => {
    const { body } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: `${OLD}@${FAR},${NEW}` }));
    expect(body.checks.webhook_secret).toEqual({ ok: true, configured: 2 });
  });

  it("answers 503 when every entry has expired", async () => {
    const { body } = await getHealth(envWith({ STRIPE_WEBHOOK_SECRET: `${OLD}@${PAST}` }));
    expect(body.ok).toBe(false);
    expect(body.checks.webhook_secret).toMatchObject({
      ok: false,
      configured: 1,
      message: expect.stringMatching(/^webhook_secret_invalid: every entry/),
    });
  });
});
