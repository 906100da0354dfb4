import { env } from "cloudflare:workers";
import { HttpResponse, http } from "msw";
import { beforeEach, describe, expect, it } from "vitest";
import { defaultHandlers } from "../src";
import { BACKFILL_TYPES } from "../src/backfill/objects";
import { ADMIN_TOKEN, type AdminCallOptions, adminApi, adminCall, adminEnv, consoleSession, ORIGIN } from "./helpers/admin";
import { stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { stubStripeApi } from "./helpers/stripe-api";
import { emptyLists, listApi } from "./helpers/stripe-lists";

const KEYED = adminEnv({ STRIPE_SECRET_KEY: "rk_test_backfill_admin" });
const NO_KEY = adminEnv();

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM job_state WHERE key IN ('backfill', 'backfill_lease', 'endpoint_check')").run();
});

/** A request through the Worker, with STRIPE_SECRET_KEY set unless `env` says otherwise. */
const call = (path: string, options: AdminCallOptions = {}) => adminCall(path, { env: KEYED, ...options });
const api = (method: string, testEnv: Env = KEYED) => adminApi("/backfill", { method, env: testEnv });
const signIn = () => consoleSession(KEYED);

const zero = Object.fromEntries(BACKFILL_TYPES.map((t) => [t, { imported: 0, done: false }]));

describe("/admin/api/backfill", () => {
  it("reports a backfill never started", async () => {
    expect(await api("GET")).toEqual({
      status: 200,
      body: {
        status: "not_started",
        done: false,
        started_at: null,
        finished_at: null,
        last_error: null,
        types: zero,
        account: null,
        accounts_done: 0,
      },
    });
  });

  it("POST starts it, imports a bounded slice at once and answers the progress; a POST after it is done starts a new run", async () => {
    const customers = [stripeObject("customer", { id: uid("cus") }), stripeObject("customer", { id: uid("cus") })];
    stubStripeApi(...emptyLists(["customers"]), listApi("customers", customers));
    const first = await api("POST");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      status: "done",
      done: true,
      last_error: null,
      // Eight list pages, and the entitlements import's one question (the account has no features).
      run: { outcome: "done", pages: 9, imported: 2 },
      types: { ...zero, ...Object.fromEntries(BACKFILL_TYPES.map((t) => [t, { imported: t === "customers" ? 2 : 0, done: true }])) },
    });
    expect((await api("GET")).body).toEqual({ ...first.body, run: undefined });

    customers.push(stripeObject("customer", { id: uid("cus") }));
    const again = await api("POST");
    expect(again.body).toMatchObject({
      done: true,
      run: { outcome: "done", imported: 3 },
      types: { customers: { imported: 3, done: true } },
    });
  });

  it("answers the progress without running anything while another invocation holds the lease", async () => {
    const seen = stubStripeApi(...emptyLists());
    await env.DB.prepare("INSERT INTO job_state (key, value, updated_at) VALUES ('backfill_lease', ?, 0)")
      .bind(JSON.stringify({ holder: "cron", until: Date.now() + 60_000 }))
      .run();
    expect(await api("POST")).toMatchObject({
      status: 200,
      body: { status: "not_started", run: { outcome: "busy", pages: 0, imported: 0 } },
    });
    expect(seen).toEqual([]);
  });

  it.each([
    ["without STRIPE_SECRET_KEY", "POST", NO_KEY, 409, "stripe_key_missing", /STRIPE_SECRET_KEY, which is not set/],
    [
      "with a refused STRIPE_API_BASE",
      "POST",
      envWith({ ...KEYED, STRIPE_API_BASE: "http://stripe.example" }),
      500,
      "config_invalid",
      /STRIPE_API_BASE uses plain http/,
    ],
  ] as const)("refuses to start %s", async (_name, method, testEnv, status, code, message) => {
    const seen = stubStripeApi();
    expect(await api(method, testEnv)).toEqual({ status, body: { error: { code, message: expect.stringMatching(message) } } });
    expect(seen).toEqual([]);
  });

  it("needs the admin token", async () => {
    const response = await call("/admin/api/backfill", { method: "POST" });
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).error.code).toBe("unauthorized");
  });
});

describe("the console's backfill panel and drift warning", () => {
  it("shows the panel with a disabled button without STRIPE_SECRET_KEY", async () => {
    const html = await (await call("/admin", { headers: { cookie: await signIn() }, env: NO_KEY })).text();
    expect(html).toMatch(/<div class="panel" id="backfill" data-backfill-status="not_started"><h2>Backfill: not started<\/h2>/);
    expect(html).toMatch(/<button type="submit" disabled="">Start backfill<\/button>/);
    expect(html).toContain("No fulfilment hook runs for them: a backfill is not a purchase.");
  });

  it("starts the backfill from the button and shows the counts per type", async () => {
    const subscriptions = [stripeObject("subscription", { id: uid("sub") })];
    stubStripeApi(...emptyLists(["subscriptions"]), listApi("subscriptions", subscriptions));
    const cookie = await signIn();
    const posted = await call("/admin/backfill", { method: "POST", headers: { cookie, origin: ORIGIN } });
    expect(posted.status).toBe(303);
    expect(posted.headers.get("location")).toBe("/admin#backfill");
    const html = await (await call("/admin", { headers: { cookie } })).text();
    expect(html).toContain('data-backfill-status="done"');
    expect(html).toMatch(/<span data-backfill-type="subscriptions"> · subscriptions: 1 ✓<\/span>/);
    expect(html).toMatch(/<button type="submit">Run backfill again<\/button>/);
  });

  it.each([
    ["without a session", { origin: ORIGIN }, 401, "unauthorized"],
    ["from another origin", { origin: "https://evil.example" }, 403, "forbidden"],
  ])("refuses the button's post %s", async (_name, headers, status, code) => {
    const seen = stubStripeApi();
    const response = await call("/admin/backfill", {
      method: "POST",
      headers: { ...headers, ...(status === 403 ? { cookie: await signIn() } : {}) },
    });
    expect(response.status).toBe(status);
    expect(((await response.json()) as any).error.code).toBe(code);
    expect(seen).toEqual([]);
  });

  it("warns on the events page about handled types the endpoint does not send, once a check found them", async () => {
    const cookie = await signIn();
    expect(await (await call("/admin", { headers: { cookie } })).text()).not.toContain('id="endpoint-drift"');
    const enabled = defaultHandlers()
      .types()
      .filter((t) => t !== "charge.refunded");
    stubStripeApi(
      http.get("https://api.stripe.com/v1/webhook_endpoints", () =>
        HttpResponse.json({
          object: "list",
          has_more: false,
          data: [
            {
              id: "we_console",
              url: "https://w.example/webhooks/stripe",
              enabled_events: enabled,
              api_version: null,
              status: "enabled",
              metadata: { managed_by: "stripe-webhook-worker" },
            },
          ],
        }),
      ),
    );
    expect((await call("/admin/api/endpoint", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(200);
    const html = await (await call("/admin", { headers: { cookie } })).text();
    expect(html).toMatch(
      new RegExp(
        /<div class="notice error" role="alert">we_console: 1 handled event type\(s\) are not enabled on the endpoint, /.source +
          /so Stripe never sends them: charge.refunded.<\/div>/.source,
      ),
    );
  });
});
