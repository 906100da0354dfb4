import { env } from "cloudflare:workers";
import { HttpResponse, http } from "msw";
import Stripe from "stripe";
import { beforeEach, describe, expect, it } from "vitest";
import { defaultHandlers } from "../src";
import { ENDPOINT_CHECK_INTERVAL_MS, ENDPOINT_CHECK_RETRY_MS } from "../src/endpoint-check/check";
import { type ListedEndpoint, selectEndpoints } from "../src/endpoint-check/report";
import { createWorker } from "../src/worker";
import { adminApi, adminEnv } from "./helpers/admin";
import { envWith } from "./helpers/faults";
import { clearLedger } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { stripeError } from "./helpers/stripe-lists";
import { getHealth, runCron } from "./helpers/worker";

const KEY = adminEnv({ STRIPE_SECRET_KEY: "rk_test_endpoint_check" });
const HANDLED = defaultHandlers().types();
const T0 = 1_780_000_000_000;
const worker = createWorker({ handlers: defaultHandlers(), now: () => T0 });

// The cron acts on job_state and the ledger: each test starts from neither.
beforeEach(clearLedger);

let seq = 0;
function endpoint(fields: Partial<ListedEndpoint> = {}): ListedEndpoint {
  return {
    id: `we_${++seq}`,
    url: "https://stripe-webhooks.example.workers.dev/webhooks/stripe",
    enabled_events: [...HANDLED],
    api_version: Stripe.API_VERSION,
    status: "enabled",
    metadata: { managed_by: "stripe-webhook-worker" },
    ...fields,
  };
}

/** The account's webhook endpoints at the network edge, plus the empty Events lists the recoveries in the same tick read. */
function account(endpoints: ListedEndpoint[] | (() => Response)) {
  return stubStripeApi(
    http.get("https://api.stripe.com/v1/webhook_endpoints", () =>
      typeof endpoints === "function"
        ? endpoints()
        : HttpResponse.json({ object: "list", url: "/v1/webhook_endpoints", has_more: false, data: endpoints }),
    ),
    http.get("https://api.stripe.com/v1/events", () => HttpResponse.json({ object: "list", url: "/v1/events", has_more: false, data: [] })),
    http.get("https://api.stripe.com/v2/core/events", () => HttpResponse.json({ data: [], next_page_url: null })),
  );
}
const endpointCalls = (seen: Request[]) => seen.filter((r) => new URL(r.url).pathname === "/v1/webhook_endpoints").length;

const cronAt = (nowMs: number, testEnv: Env = KEY) => runCron(nowMs, { env: testEnv, handlers: defaultHandlers() });

describe("finding this Worker's endpoint", () => {
  const url = "https://a.example.workers.dev/webhooks/stripe";
  it.each([
    ["WEBHOOK_URL picks the endpoint posting there, marked or not", [endpoint({ url, metadata: {} }), endpoint()], url, "WEBHOOK_URL", 0],
    [
      "without WEBHOOK_URL, the endpoint stripe:endpoint marked",
      [endpoint({ url: "https://other.example/hook", metadata: {} }), endpoint({ url })],
      null,
      "managed_by",
      1,
    ],
    [
      "without WEBHOOK_URL or a marker, the one endpoint posting to …/webhooks/stripe",
      [endpoint({ url: "https://other.example/hook", metadata: {} }), endpoint({ url, metadata: {} })],
      null,
      "path",
      1,
    ],
  ] as const)("%s", (_name, listed, webhookUrl, foundBy, index) => {
    const selected = selectEndpoints(listed, webhookUrl);
    expect(selected).toEqual({ endpoints: [listed[index]], foundBy });
  });

  it.each([
    [
      "WEBHOOK_URL with no endpoint there",
      [endpoint()],
      url,
      new RegExp(
        /No webhook endpoint posts to https:\/\/a\.example\.workers\.dev\/webhooks\/stripe \(WEBHOOK_URL\)/.source +
          /.*--url https:\/\/a\.example\.workers\.dev\./.source,
      ),
    ],
    [
      "two marked endpoints and no WEBHOOK_URL",
      [endpoint(), endpoint({ url })],
      null,
      /2 webhook endpoints could be this Worker's.*Set WEBHOOK_URL/,
    ],
    ["no endpoint at all", [], null, /No webhook endpoint of this Worker was found.*npm run stripe:endpoint/],
  ] as const)("compares nothing and says what to do for %s", (_name, listed, webhookUrl, problem) => {
    const selected = selectEndpoints(listed, webhookUrl);
    expect(selected.endpoints).toEqual([]);
    expect(selected.problem).toMatch(problem);
  });
});

describe("the daily drift check", () => {
  it(
    "warns in /health about handled types the endpoint does not send and informs about unhandled ones, " +
      "without calling Stripe per request",
    async () => {
      const missing = ["invoice.paid", "customer.subscription.deleted"];
      const listed = endpoint({ enabled_events: [...HANDLED.filter((t) => !missing.includes(t)), "payout.paid"] });
      const seen = account([listed]);
      await cronAt(T0);
      expect(endpointCalls(seen)).toBe(1);

      for (let i = 0; i < 3; i++) {
        const { body } = await getHealth(KEY);
        expect(body.ok).toBe(true);
        expect(body.checks.endpoint).toEqual({
          ok: true,
          last_checked_at: new Date(T0).toISOString(),
          endpoints: [listed.id],
          warnings: [
            `${listed.id}: 2 handled event type(s) are not enabled on the endpoint, so Stripe never sends them: ` +
              "customer.subscription.deleted, invoice.paid.",
          ],
          info: [expect.stringMatching(new RegExp(`^${listed.id}: 1 enabled event type\\(s\\) have no handler .*: payout\\.paid\\.$`))],
        });
      }
      expect(endpointCalls(seen)).toBe(1);
    },
  );

  it("shows nothing to fix for an endpoint in sync, and never a 503 for drift", async () => {
    account([endpoint({ status: "disabled" })]);
    await cronAt(T0);
    const { body } = await getHealth(KEY);
    expect(body.ok).toBe(true);
    expect(body.checks.endpoint.warnings).toEqual([expect.stringMatching(/is disabled: Stripe sends it nothing/)]);
    expect(body.checks.endpoint.info).toBeUndefined();
  });

  it("runs once a day, at once when the handled types change, and an hour after a failure", async () => {
    let fail = true;
    const seen = account(() =>
      fail ? stripeError(500, "api_error") : HttpResponse.json({ object: "list", has_more: false, data: [endpoint()] }),
    );
    await cronAt(T0);
    const afterFailure = endpointCalls(seen); // the SDK retries a 500 twice within the attempt
    expect(afterFailure).toBeGreaterThanOrEqual(1);
    await cronAt(T0 + ENDPOINT_CHECK_RETRY_MS - 60_000);
    expect(endpointCalls(seen)).toBe(afterFailure);

    fail = false;
    await cronAt(T0 + ENDPOINT_CHECK_RETRY_MS);
    expect(endpointCalls(seen)).toBe(afterFailure + 1);
    for (const minutes of [1, 60, 23 * 60]) await cronAt(T0 + ENDPOINT_CHECK_RETRY_MS + minutes * 60_000);
    expect(endpointCalls(seen)).toBe(afterFailure + 1);
    await cronAt(T0 + ENDPOINT_CHECK_RETRY_MS + ENDPOINT_CHECK_INTERVAL_MS);
    expect(endpointCalls(seen)).toBe(afterFailure + 2);

    // A deploy pointing the check elsewhere (or handling other types) is checked on the next tick.
    await cronAt(
      T0 + ENDPOINT_CHECK_RETRY_MS + ENDPOINT_CHECK_INTERVAL_MS + 60_000,
      envWith({ ...KEY, WEBHOOK_URL: "https://moved.example.workers.dev" }),
    );
    expect(endpointCalls(seen)).toBe(afterFailure + 3);
  });

  it("does not run without STRIPE_SECRET_KEY, and /health says it never ran", async () => {
    const seen = account([endpoint()]);
    await cronAt(T0, envWith({ STRIPE_SECRET_KEY: "" }));
    expect(seen).toEqual([]);
    expect((await getHealth()).body.checks.endpoint).toEqual({ ok: true, last_checked_at: null });
  });

  it("reports a missing endpoint only as information when this Worker has only received thin events", async () => {
    account([]);
    await env.DB.prepare("INSERT INTO job_state (key, value, updated_at) VALUES ('format_seen:thin', '{\"firstCreated\":1}', 0)").run();
    await cronAt(T0);
    const { body } = await getHealth(KEY);
    expect(body.checks.endpoint.warnings).toBeUndefined();
    expect(body.checks.endpoint.info).toEqual([
      expect.stringMatching(/No webhook endpoint of this Worker was found.*only received thin events/),
    ]);
  });
});

describe("GET /admin/api/endpoint", () => {
  it("runs the check now, answers the comparison and saves it for /health", async () => {
    const listed = endpoint({ enabled_events: [...HANDLED, "balance.available"], api_version: "2024-06-20" });
    const seen = account([listed]);
    const { status, body } = await adminApi("/endpoint", { worker, env: KEY });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      found_by: "managed_by",
      endpoints: [{ id: listed.id, missing: [], unhandled: ["balance.available"], api_version: "2024-06-20", wildcard: false }],
    });
    expect(body.warnings).toEqual([expect.stringContaining(`API version 2024-06-20, the stripe SDK expects ${Stripe.API_VERSION}`)]);
    expect(endpointCalls(seen)).toBe(1);
    expect((await getHealth(KEY)).body.checks.endpoint).toMatchObject({
      last_checked_at: new Date(T0).toISOString(),
      info: [expect.stringContaining("balance.available")],
    });
  });

  it.each([
    ["STRIPE_SECRET_KEY is unset", adminEnv(), () => [endpoint()], 409, "stripe_key_missing", /STRIPE_SECRET_KEY, which is not set/],
    [
      "Stripe refuses the key",
      KEY,
      () => stripeError(401, "invalid_request_error"),
      502,
      "stripe_api_error",
      /answered 401 \(StripeAuthenticationError\).*read access to Webhook Endpoints/,
    ],
  ] as const)("answers the error envelope when %s", async (_name, testEnv, answer, status, code, message) => {
    account(answer as never);
    const response = await adminApi("/endpoint", { worker, env: testEnv });
    expect(response).toEqual({ status, body: { error: { code, message: expect.stringMatching(message) } } });
    expect(JSON.stringify(response.body)).not.toContain("must not be repeated");
  });
});
