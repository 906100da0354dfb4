import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { deliver, stripeHeaders, TEST_SECRET } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { envWith, failingD1 } from "./helpers/faults";
import { ledgerCount } from "./helpers/ledger";
import { signatureHeader } from "./helpers/sign";
import { callWorker } from "./helpers/worker";

const now = () => Math.floor(Date.now() / 1000);
const event = () => buildEvent("checkout.session.completed", OBJECTS["checkout.session"]);

interface ErrorCase {
  name: string;
  send: () => Promise<Response>;
  status: number;
  code: string;
  /** A phrase the message must contain to help the person debugging. */
  hint: RegExp;
}

const cases: ErrorCase[] = [
  {
    name: "no Stripe-Signature header",
    send: () => deliver(event(), { signature: null }),
    status: 400,
    code: "signature_missing",
    hint: /no Stripe-Signature header/,
  },
  {
    name: "an empty Stripe-Signature header",
    send: () => deliver(event(), { signature: "" }),
    status: 400,
    code: "signature_missing",
    hint: /no Stripe-Signature header/,
  },
  {
    name: "a header with no t=",
    send: () => deliver(event(), { signature: "v1=abcdef" }),
    status: 400,
    code: "signature_invalid",
    hint: /no t=/,
  },
  {
    name: "a header with only a v0 signature",
    send: () => deliver(event(), { signature: `t=${now()},v0=abcdef` }),
    status: 400,
    code: "signature_invalid",
    hint: /only a v0/,
  },
  {
    name: "a header with neither v1 nor v0",
    send: () => deliver(event(), { signature: `t=${now()}` }),
    status: 400,
    code: "signature_invalid",
    hint: /no v1 signature/,
  },
  {
    name: "a signature made with another secret",
    send: () => deliver(event(), { secrets: ["whsec_someone_else"] }),
    status: 400,
    code: "signature_invalid",
    hint: /stripe listen/,
  },
  {
    name: "a body changed after signing",
    send: async () => {
      const payload = JSON.stringify(event());
      const signature = await signatureHeader(payload, [TEST_SECRET], now());
      return deliver(JSON.stringify(JSON.parse(payload), null, 2), { signature });
    },
    status: 400,
    code: "signature_invalid",
    hint: /raw|re-serialised/,
  },
  {
    name: "a timestamp older than the tolerance",
    send: () => deliver(event(), { timestamp: now() - 301 }),
    status: 400,
    code: "timestamp_out_of_tolerance",
    hint: /ago \(tolerance 300 s\)/,
  },
  {
    name: "a timestamp further in the future than the tolerance",
    send: () => deliver(event(), { timestamp: now() + 400 }),
    status: 400,
    code: "timestamp_out_of_tolerance",
    hint: /in the future/,
  },
  {
    name: "a signed body that is not JSON",
    send: () => deliver("this is not json"),
    status: 400,
    code: "payload_invalid",
    hint: /not a Stripe event/,
  },
  {
    name: "signed JSON without an id",
    send: () => deliver({ type: "invoice.paid", object: "event" }),
    status: 400,
    code: "payload_invalid",
    hint: /evt_/,
  },
  {
    name: "signed JSON whose id is not an event id",
    send: () => deliver({ ...event(), id: "cs_test_123" }),
    status: 400,
    code: "payload_invalid",
    hint: /evt_/,
  },
  {
    name: "signed JSON without a type",
    send: () => deliver({ ...event(), type: undefined }),
    status: 400,
    code: "payload_invalid",
    hint: /type/,
  },
  { name: "signed JSON that is an array", send: () => deliver("[1,2,3]"), status: 400, code: "payload_invalid", hint: /JSON object/ },
  {
    name: "an empty body",
    send: () => deliver("", { signature: `t=${now()},v1=abc` }),
    status: 400,
    code: "payload_invalid",
    hint: /body is empty/,
  },
  {
    name: "a declared Content-Length over 1 MiB",
    send: () =>
      callWorker("/webhooks/stripe", {
        method: "POST",
        headers: { "content-length": String(2 * 1024 * 1024), "stripe-signature": `t=${now()},v1=abc` },
        body: new Uint8Array(2 * 1024 * 1024),
      }),
    status: 413,
    code: "payload_too_large",
    hint: /over 1 MiB/,
  },
  {
    name: "a chunked body that grows past 1 MiB",
    send: () => {
      const chunk = new Uint8Array(256 * 1024).fill(0x20);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 8) controller.enqueue(chunk);
          else controller.close();
        },
      });
      return callWorker("/webhooks/stripe", { method: "POST", headers: stripeHeaders(`t=${now()},v1=abc`), body });
    },
    status: 413,
    code: "payload_too_large",
    hint: /over 1 MiB/,
  },
  { name: "GET on the webhook route", send: () => callWorker("/webhooks/stripe"), status: 405, code: "method_not_allowed", hint: /POST/ },
  {
    name: "PUT on the webhook route",
    send: () => callWorker("/webhooks/stripe", { method: "PUT", body: "{}" }),
    status: 405,
    code: "method_not_allowed",
    hint: /POST/,
  },
  { name: "an unknown path", send: () => callWorker("/webhook"), status: 404, code: "not_found", hint: /\/webhooks\/stripe/ },
  {
    name: "no webhook secret configured",
    send: () => deliver(event(), { env: envWith({ STRIPE_WEBHOOK_SECRET: "" }) }),
    status: 500,
    code: "webhook_secret_missing",
    hint: /wrangler secret put STRIPE_WEBHOOK_SECRET/,
  },
  {
    name: "a webhook secret list of only commas and spaces",
    send: () => deliver(event(), { env: envWith({ STRIPE_WEBHOOK_SECRET: " , " }) }),
    status: 500,
    code: "webhook_secret_missing",
    hint: /not set/,
  },
  {
    name: "an API key configured as the webhook secret",
    send: () => deliver(event(), { env: envWith({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},sk_test_not_a_webhook_secret` }) }),
    status: 500,
    code: "webhook_secret_invalid",
    hint: /Entry 2 of 2 .*does not start with whsec_/,
  },
  {
    name: "a tolerance that is not a number",
    send: () => deliver(event(), { env: envWith({ STRIPE_WEBHOOK_TOLERANCE_SECONDS: "5m" }) }),
    status: 500,
    code: "config_invalid",
    hint: /STRIPE_WEBHOOK_TOLERANCE_SECONDS/,
  },
  {
    name: "a retention shorter than Stripe's retries",
    send: () => deliver(event(), { env: envWith({ LEDGER_RETENTION_DAYS: "1" }) }),
    status: 500,
    code: "config_invalid",
    hint: /LEDGER_RETENTION_DAYS .*at least 3/,
  },
  {
    name: "a database size limit that is not a number",
    send: () => deliver(event(), { env: envWith({ D1_MAX_BYTES: "lots" }) }),
    status: 500,
    code: "config_invalid",
    hint: /D1_MAX_BYTES/,
  },
  {
    name: "D1 failing to record the event",
    send: () => deliver(event(), { env: envWith({ DB: failingD1() }) }),
    status: 500,
    code: "storage_unavailable",
    hint: /Stripe retries/,
  },
  {
    name: "an unexpected error inside the Worker",
    send: () => {
      const broken = new Proxy(env, {
        get(target, prop) {
          if (prop === "STRIPE_WEBHOOK_TOLERANCE_SECONDS") throw new Error("boom with whsec_should_never_leak inside");
          return Reflect.get(target, prop);
        },
      });
      return deliver(event(), { env: broken });
    },
    status: 500,
    code: "internal_error",
    hint: /unexpected error/,
  },
];

describe("POST /webhooks/stripe, rejected deliveries", () => {
  it.each(cases)("answers $status $code for $name", async ({ send, status, code, hint }) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error.code).toBe(code);
    expect(body.error.message).toMatch(hint);
    // No configured secret, no injected error text, no stack ever reaches the response.
    expect(body.error.message).not.toMatch(/whsec_\w|sk_test|\n\s+at /);
  });

  it("refuses a delivery without a Stripe-Signature header before reading a byte of its body", async () => {
    let pulled = 0;
    // highWaterMark 0: the stream fills nothing ahead, so a pull means someone read the body.
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(64 * 1024));
        },
      },
      { highWaterMark: 0 },
    );
    const response = await callWorker("/webhooks/stripe", { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("signature_missing");
    expect(pulled).toBe(0);
  });

  it("records nothing for a delivery it rejects", async () => {
    const forged = event();
    expect((await deliver(forged, { secrets: ["whsec_forger"] })).status).toBe(400);
    const stale = event();
    expect((await deliver(stale, { timestamp: now() - 3600 })).status).toBe(400);
    expect(await ledgerCount(forged.id)).toBe(0);
    expect(await ledgerCount(stale.id)).toBe(0);
  });

  it("accepts the same delivery once the failure that rejected it is gone, as Stripe's retry would", async () => {
    const e = event();
    expect((await deliver(e, { env: envWith({ DB: failingD1() }) })).status).toBe(500);
    expect(await ledgerCount(e.id)).toBe(0);
    const retry = await deliver(e);
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ id: e.id, duplicate: false });
  });
});
