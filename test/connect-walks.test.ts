import { env } from "cloudflare:workers";
import { HttpResponse, http } from "msw";
import { beforeEach, describe, expect, it } from "vitest";
import { defaultHandlers } from "../src";
import { runBackfill } from "../src/backfill/run";
import { backfillProgress, readBackfill } from "../src/backfill/state";
import { createDb } from "../src/db/client";
import { recoverMissedEvents } from "../src/recovery/snapshot";
import catalogue from "./fixtures/stripe-objects-more/entitlements-catalogue.json";
import { eventAt, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { ledgerRow, seedEvent } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { emptyLists, featureList, LIST_PATHS } from "./helpers/stripe-lists";
import { testDeps } from "./helpers/worker";

// The backfill and the recovery walk the connected accounts of STRIPE_CONNECT_ACCOUNTS (a list, or
// `all` through the Accounts list) besides the platform, each request carrying the account's
// Stripe-Context, each row and event kept under its account. And the backfill imports each
// customer's active Stripe Entitlements, which no list API spans.

beforeEach(async () => {
  await env.DB.batch(["stripe_events", "job_state", "customers"].map((table) => env.DB.prepare(`DELETE FROM ${table}`)));
});

const KEY = "rk_test_connect_walks";
/** The account a request acts as: its Stripe-Context, `''` for the platform. */
const contextOf = (request: { headers: Headers }) => request.headers.get("stripe-context") ?? "";

/** `GET /v1/customers` answering each account with its own customers (one page). */
function customersByAccount(byAccount: Record<string, { id: string }[]>) {
  return http.get(`https://api.stripe.com${LIST_PATHS.customers}`, ({ request }) =>
    HttpResponse.json({ object: "list", url: LIST_PATHS.customers, has_more: false, data: byAccount[contextOf(request)] ?? [] }),
  );
}

const customerRows = (id: string) =>
  env.DB.prepare("SELECT account, email FROM customers WHERE id = ? ORDER BY account")
    .bind(id)
    .all()
    .then((r) => r.results);

describe("the backfill and connected accounts", () => {
  it("imports each listed connected account after the platform, the same customer id kept once per account", async () => {
    const same = uid("cus");
    const [a, b] = [uid("acct"), uid("acct")];
    const seen = stubStripeApi(
      ...emptyLists(["customers"]),
      customersByAccount({
        "": [stripeObject("customer", { id: same, email: "platform@example.com" })],
        [a]: [stripeObject("customer", { id: same, email: "a@example.com" })],
        [b]: [stripeObject("customer", { id: same, email: "b@example.com" })],
      }),
    );
    const testEnv = envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_CONNECT_BILLING: "true", STRIPE_CONNECT_ACCOUNTS: `${a},${b}` });
    const report = await runBackfill(testDeps({ env: testEnv }), { start: true, limits: { maxPages: 100 } });

    expect(report.outcome).toBe("done");
    expect(await customerRows(same)).toEqual(
      [
        { account: "", email: "platform@example.com" },
        { account: a, email: "a@example.com" },
        { account: b, email: "b@example.com" },
      ].sort((x, y) => (x.account < y.account ? -1 : 1)),
    );
    const customerLists = seen.filter((r) => new URL(r.url).pathname === LIST_PATHS.customers).map(contextOf);
    expect(customerLists).toEqual(["", a, b]);
    expect(backfillProgress(await readBackfill(createDb(env.DB)))).toMatchObject({
      status: "done",
      account: b,
      accounts_done: 2,
      types: { customers: { imported: 3, done: true } },
    });
  });

  it("walks every account the Accounts list gives with STRIPE_CONNECT_ACCOUNTS=all", async () => {
    const same = uid("cus");
    const accounts = [uid("acct"), uid("acct")];
    stubStripeApi(
      ...emptyLists(["customers"]),
      customersByAccount(
        Object.fromEntries(accounts.map((acct) => [acct, [stripeObject("customer", { id: same, email: `${acct}@x.io` })]])),
      ),
      http.get("https://api.stripe.com/v1/accounts", () =>
        HttpResponse.json({
          object: "list",
          url: "/v1/accounts",
          has_more: false,
          data: accounts.map((id) => ({ id, object: "account" })),
        }),
      ),
    );
    const testEnv = envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_CONNECT_BILLING: "true", STRIPE_CONNECT_ACCOUNTS: "all" });
    expect((await runBackfill(testDeps({ env: testEnv }), { start: true, limits: { maxPages: 100 } })).outcome).toBe("done");
    expect((await customerRows(same)).map((r) => r.account)).toEqual([...accounts].sort());
  });

  it("leaves connected accounts alone without STRIPE_CONNECT_BILLING, whose events would never update their rows", async () => {
    const same = uid("cus");
    const a = uid("acct");
    const seen = stubStripeApi(...emptyLists(["customers"]), customersByAccount({ [a]: [stripeObject("customer", { id: same })] }));
    const testEnv = envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_CONNECT_ACCOUNTS: a });
    expect((await runBackfill(testDeps({ env: testEnv }), { start: true, limits: { maxPages: 100 } })).outcome).toBe("done");
    expect(await customerRows(same)).toEqual([]);
    expect(seen.map(contextOf).every((c) => c === "")).toBe(true);
  });
});

describe("the backfill and Stripe Entitlements", () => {
  it("lists each imported customer's active entitlements when the account has features", async () => {
    const [entitled, none] = [uid("cus"), uid("cus")];
    const entitlement = (lookupKey: string) => ({
      ...catalogue["entitlements.active_entitlement"],
      id: uid("ent"),
      feature: uid("feat"),
      lookup_key: lookupKey,
    });
    const sets: Record<string, object[]> = { [entitled]: [entitlement("api_access"), entitlement("seats_10")], [none]: [] };
    const seen = stubStripeApi(
      ...emptyLists(["customers", "entitlements"]),
      customersByAccount({ "": [stripeObject("customer", { id: entitled }), stripeObject("customer", { id: none })] }),
      featureList([catalogue["entitlements.feature"]]),
      http.get("https://api.stripe.com/v1/entitlements/active_entitlements", ({ request }) => {
        const customer = new URL(request.url).searchParams.get("customer") ?? "";
        return HttpResponse.json({
          object: "list",
          url: "/v1/entitlements/active_entitlements",
          has_more: false,
          data: sets[customer] ?? [],
        });
      }),
    );
    const report = await runBackfill(testDeps({ env: envWith({ STRIPE_SECRET_KEY: KEY }) }), { start: true, limits: { maxPages: 100 } });

    expect(report.outcome).toBe("done");
    const asked = seen.filter((r) => new URL(r.url).pathname === "/v1/entitlements/active_entitlements");
    expect(asked.map((r) => new URL(r.url).searchParams.get("customer")).sort()).toEqual([entitled, none].sort());
    const keys = await env.DB.prepare(
      "SELECT lookup_key FROM active_entitlements WHERE account = '' AND customer_id = ? ORDER BY lookup_key",
    )
      .bind(entitled)
      .all();
    expect(keys.results).toEqual([{ lookup_key: "api_access" }, { lookup_key: "seats_10" }]);
    expect(backfillProgress(await readBackfill(createDb(env.DB))).types.entitlements).toEqual({ imported: 2, done: true });
  });
});

describe("the recovery and connected accounts", () => {
  it("lists each connected account's events on its behalf and records them under its account", async () => {
    const a = uid("acct");
    const now = Date.now();
    const sub = stripeObject("subscription", { id: uid("sub"), customer: uid("cus") });
    // Listed on the account's behalf, the event does not name its account.
    const missed = { ...eventAt("customer.subscription.updated", sub, Math.floor(now / 1000) - 60), account: undefined };
    // The recovery never goes back past the ledger's first event (a new install replays no history).
    await seedEvent(eventAt("customer.created", stripeObject("customer", { id: uid("cus") }), Math.floor(now / 1000) - 3600));
    const seen = stubStripeApi(
      http.get("https://api.stripe.com/v1/events", ({ request }) => {
        const data = contextOf(request) === a && new URL(request.url).searchParams.get("delivery_success") === null ? [missed] : [];
        return HttpResponse.json({ object: "list", url: "/v1/events", has_more: false, data });
      }),
    );
    const testEnv = envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_CONNECT_ACCOUNTS: a });
    const report = await recoverMissedEvents(testDeps({ env: testEnv, handlers: defaultHandlers(), now }));

    expect(report).toMatchObject({ recovered: 1 });
    expect(await ledgerRow(missed.id)).toMatchObject({ source: "recovery", account: a });
    expect([...new Set(seen.map(contextOf))].sort()).toEqual(["", a].sort());
  });
});
