import { describe, expect, it } from "vitest";
import { deliver, TEST_SECRET } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { ledgerRow } from "./helpers/ledger";
import { stripeSignature } from "./helpers/sign";

const now = () => Math.floor(Date.now() / 1000);
const event = () => buildEvent("invoice.paid", OBJECTS.invoice);

describe("signature verification, the edge cases of Stripe's SDK tests", () => {
  it("accepts a header with several v1 signatures when one of them matches", async () => {
    const e = event();
    const payload = JSON.stringify(e);
    const t = now();
    const good = await stripeSignature(payload, TEST_SECRET, t);
    const signature = `t=${t},v1=${"0".repeat(64)},v1=${good},v0=${"f".repeat(64)}`;
    expect((await deliver(payload, { signature })).status).toBe(200);
  });

  it("ignores the v0 decoy even when it is the only signature that matches", async () => {
    const e = event();
    const payload = JSON.stringify(e);
    const t = now();
    const sig = await stripeSignature(payload, TEST_SECRET, t);
    const response = await deliver(payload, { signature: `t=${t},v1=${"0".repeat(64)},v0=${sig}` });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "signature_invalid" } });
  });

  it("trims whitespace and newlines around configured secrets", async () => {
    const response = await deliver(event(), { env: envWith({ STRIPE_WEBHOOK_SECRET: `  ${TEST_SECRET}\n` }) });
    expect(response.status).toBe(200);
  });

  it("accepts a delivery signed by any configured secret and records which one", async () => {
    const e = event();
    const env = envWith({ STRIPE_WEBHOOK_SECRET: `whsec_new_secret, ${TEST_SECRET}` });
    expect((await deliver(e, { env, secrets: [TEST_SECRET] })).status).toBe(200);
    expect((await ledgerRow(e.id))?.secret_index).toBe(1);
  });

  it("accepts a delivery signed with both the new and the old secret during a roll", async () => {
    const e = event();
    const env = envWith({ STRIPE_WEBHOOK_SECRET: `whsec_new_secret,${TEST_SECRET}` });
    expect((await deliver(e, { env, secrets: ["whsec_new_secret", TEST_SECRET] })).status).toBe(200);
    expect((await ledgerRow(e.id))?.secret_index).toBe(0);
  });

  it("accepts a timestamp exactly at the tolerance, in the past and in the future", async () => {
    expect((await deliver(event(), { timestamp: now() - 299 })).status).toBe(200);
    expect((await deliver(event(), { timestamp: now() + 299 })).status).toBe(200);
  });

  it("applies STRIPE_WEBHOOK_TOLERANCE_SECONDS to both directions", async () => {
    const env = envWith({ STRIPE_WEBHOOK_TOLERANCE_SECONDS: "60" });
    expect((await deliver(event(), { env, timestamp: now() - 30 })).status).toBe(200);
    const past = await deliver(event(), { env, timestamp: now() - 120 });
    expect(await past.json()).toMatchObject({ error: { code: "timestamp_out_of_tolerance" } });
    const future = await deliver(event(), { env, timestamp: now() + 120 });
    expect(await future.json()).toMatchObject({ error: { code: "timestamp_out_of_tolerance" } });
  });

  it("does not call a forged delivery stale: a bad signature with an old timestamp is signature_invalid", async () => {
    const response = await deliver(event(), { secrets: ["whsec_forger"], timestamp: now() - 3600 });
    expect(await response.json()).toMatchObject({ error: { code: "signature_invalid" } });
  });

  it("records livemode, api_version, account and created from the verified event", async () => {
    const e = buildEvent("invoice.paid", OBJECTS.invoice, { livemode: true, account: "acct_1Connected", created: 1700000000 });
    expect((await deliver(e)).status).toBe(200);
    expect(await ledgerRow(e.id)).toMatchObject({
      livemode: 1,
      account: "acct_1Connected",
      created: 1700000000,
      api_version: "2026-10-28.endive",
      status: expect.any(String),
    });
  });
});
