import { describe, expect, it } from "vitest";
import { defaultHandlers } from "../src";
import worker from "../src/index";
import { createWorker } from "../src/worker";
import body from "./fixtures/real-delivery/body.json?raw";
import signature from "./fixtures/real-delivery/stripe-signature.txt?raw";
import secret from "./fixtures/real-delivery/webhook-secret.txt?raw";
import { stripeHeaders } from "./helpers/deliver";
import { envWith } from "./helpers/faults";
import { ledgerRow } from "./helpers/ledger";
import { callWorker, type FetchTarget } from "./helpers/worker";

// The real delivery was signed at t=1591264652 (2020-06-04). Its v0 part is a test-mode decoy.
const SIGNED_AT_MS = 1591264652 * 1000;

function post(target: FetchTarget, secretValue: string): Promise<Response> {
  return callWorker("/webhooks/stripe", {
    method: "POST",
    headers: stripeHeaders(signature.trim()),
    body,
    worker: target,
    env: envWith({ STRIPE_WEBHOOK_SECRET: secretValue }),
  });
}

describe("a real delivery captured from Stripe", () => {
  it("is exactly the 1,340 signed bytes", () => {
    expect(new TextEncoder().encode(body).byteLength).toBe(1340);
  });

  it("verifies at the time it was signed, with the default tolerance", async () => {
    const atSigningTime = createWorker({ handlers: defaultHandlers(), now: () => SIGNED_AT_MS + 1000 });
    const response = await post(atSigningTime, secret.trim());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true, id: "evt_1GqFpHAlCFm536g8NYSLoccF", duplicate: false });
    expect(await ledgerRow("evt_1GqFpHAlCFm536g8NYSLoccF")).toMatchObject({
      type: "checkout.session.completed",
      api_version: "2019-05-16",
      created: 1591264651,
      payload: body,
    });
  });

  it("is refused today as out of tolerance, because its signature is years old", async () => {
    const response = await post(worker, secret.trim());
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "timestamp_out_of_tolerance" } });
  });

  it("is refused at its own time under another secret", async () => {
    const atSigningTime = createWorker({ handlers: defaultHandlers(), now: () => SIGNED_AT_MS });
    const response = await post(atSigningTime, "whsec_not_the_endpoint_secret");
    expect(await response.json()).toMatchObject({ error: { code: "signature_invalid" } });
  });
});
