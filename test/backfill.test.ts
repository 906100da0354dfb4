import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { BACKFILL_SOURCES, type ListedType } from "../src/backfill/objects";
import { type BackfillLimits, runBackfill } from "../src/backfill/run";
import { backfillProgress, readBackfill } from "../src/backfill/state";
import { billingHandlers } from "../src/billing/handlers";
import { fetchedAt } from "../src/billing/sources";
import { createDb } from "../src/db/client";
import catalogue from "./fixtures/stripe-objects-more/entitlements-catalogue.json";
import { billingRow, eventAt, processEvents, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { stubStripeApi } from "./helpers/stripe-api";
import { emptyLists, featureList, LIST_PATHS, listApi, listRequests, otherCronCalls, stripeError } from "./helpers/stripe-lists";
import { runCron, testDeps } from "./helpers/worker";

const KEY = envWith({ STRIPE_SECRET_KEY: "rk_test_backfill" });
const NOW_MS = 1_770_000_000_400;
const TABLES: Record<ListedType, string> = {
  customers: "customers",
  products: "products",
  prices: "prices",
  subscriptions: "subscriptions",
  checkout_sessions: "checkout_sessions",
  invoices: "invoices",
  payment_intents: "payment_intents",
  charges: "charges",
};

// Storage is shared by the tests of a file: each starts with no backfill run (object ids are unique per test).
beforeEach(async () => {
  await env.DB.prepare("DELETE FROM job_state WHERE key IN ('backfill', 'backfill_lease')").run();
});

const run = (start: boolean, limits: BackfillLimits = {}, nowMs = NOW_MS, testEnv = KEY) =>
  runBackfill(testDeps({ env: testEnv, now: () => nowMs }), { start, limits });
const progress = async () => backfillProgress(await readBackfill(createDb(env.DB)));

/** An account with `n` objects of every type, as Stripe's list APIs return them (new ids each call). */
function account(n: number) {
  const many = <T>(make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));
  return {
    customers: many(() => stripeObject("customer", { id: uid("cus") })),
    products: many(() => ({ ...structuredClone(catalogue.product), id: uid("prod") })),
    prices: many(() => ({ ...structuredClone(catalogue.price), id: uid("price") })),
    subscriptions: many((i) => stripeObject("subscription", { id: uid("sub"), status: ["active", "past_due", "canceled"][i % 3] })),
    checkout_sessions: many(() => stripeObject("checkoutSession", { id: uid("cs_test"), status: "complete", payment_status: "paid" })),
    invoices: many(() => stripeObject("invoice", { id: uid("in"), status: "paid" })),
    payment_intents: many(() => stripeObject("paymentIntent", { id: uid("pi"), status: "succeeded" })),
    charges: many((i) => stripeObject("charge", { id: uid("ch"), refunded: i === 0, amount_refunded: i === 0 ? 100 : 0 })),
  } satisfies Record<ListedType, { id: string }[]>;
}

/** The listed types, in import order (the entitlements import follows them). */
const LISTED = Object.keys(BACKFILL_SOURCES) as ListedType[];

describe("backfill: pages, cursors and bounds", () => {
  it("imports every page of every type, resuming each type's cursor in the next invocation, and stops when done", async () => {
    const objects = account(3);
    // An account without Entitlements features: the entitlements import asks once and is done.
    const seen = stubStripeApi(...LISTED.map((t) => listApi(t, objects[t])), featureList([]));
    const limits = { pageSize: 2, maxPages: 3 };

    const first = await run(true, limits);
    expect(first).toMatchObject({ outcome: "budget", pages: 3, imported: 5 });
    expect((await progress()).types).toMatchObject({
      customers: { imported: 3, done: true },
      products: { imported: 2, done: false },
      prices: { imported: 0, done: false },
    });

    // The cron continues it: five more invocations of at most three requests each (16 list pages and
    // the features question in all).
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push((await run(false, limits)).outcome);
    expect(outcomes).toEqual(["budget", "budget", "budget", "budget", "done"]);
    expect(await progress()).toMatchObject({
      status: "done",
      done: true,
      last_error: null,
      types: { ...Object.fromEntries(LISTED.map((t) => [t, { imported: 3, done: true }])), entitlements: { imported: 0, done: true } },
      account: null,
      accounts_done: 0,
    });

    // Each type read once, page after page: the cursor is the last id of the page before.
    expect(listRequests(seen)).toEqual(LISTED.flatMap((t) => [LIST_PATHS[t], `${LIST_PATHS[t]} after ${objects[t][1]!.id}`]));
    const subscriptionLists = seen.filter((r) => new URL(r.url).pathname === "/v1/subscriptions");
    expect(subscriptionLists.map((r) => new URL(r.url).searchParams.get("status"))).toEqual(["all", "all"]);

    // A finished backfill is not continued by the cron.
    expect((await run(false, limits)).outcome).toBe("not_running");
    expect(seen).toHaveLength(17);

    const { runId } = (await readBackfill(createDb(env.DB)))!;
    for (const t of LISTED) {
      for (const object of objects[t]) {
        const row = await env.DB.prepare(`SELECT last_event_created, last_event_id FROM ${TABLES[t]} WHERE id = ?`).bind(object.id).first();
        // Stamped exactly as an object fetched for a thin event: the clock before the request, minus the margin.
        expect(row, `${t} ${object.id}`).toEqual({ last_event_created: fetchedAt(NOW_MS), last_event_id: `backfill:${runId}` });
      }
    }
    expect(await billingRow("subscriptions", objects.subscriptions[2]!.id)).toMatchObject({ status: "canceled" });
    expect(await billingRow("charges", objects.charges[0]!.id)).toMatchObject({ refunded: 1, amount_refunded: 100 });
  });

  it("ends the invocation on a 429 without retrying it, and resumes at the same cursor next time", async () => {
    const invoices = Array.from({ length: 5 }, () => stripeObject("invoice", { id: uid("in"), status: "open" }));
    let limited = 0;
    const seen = stubStripeApi(
      ...emptyLists(["invoices"]),
      listApi("invoices", invoices, (q) =>
        q.get("starting_after") === invoices[1]!.id && limited++ === 0 ? stripeError(429, "rate_limit_error") : undefined,
      ),
    );

    const first = await run(true, { pageSize: 2, maxPages: 10 });
    expect(first).toMatchObject({ outcome: "rate_limited", imported: 2 });
    expect(listRequests(seen).filter((p) => p.startsWith("/v1/invoices"))).toEqual([
      "/v1/invoices",
      `/v1/invoices after ${invoices[1]!.id}`,
    ]);
    const paused = await progress();
    expect(paused).toMatchObject({
      status: "running",
      done: false,
      types: { invoices: { imported: 2, done: false } },
      last_error: { status: 429, error: "StripeRateLimitError" },
    });
    expect(paused.last_error!.message).toMatch(/continues where it stopped at the next cron tick/);
    expect(JSON.stringify(paused)).not.toContain("must not be repeated");

    const second = await run(false, { pageSize: 2, maxPages: 10 });
    expect(second).toMatchObject({ outcome: "done", imported: 3 });
    expect(
      listRequests(seen)
        .filter((p) => p.startsWith("/v1/invoices"))
        .slice(2),
    ).toEqual([`/v1/invoices after ${invoices[1]!.id}`, `/v1/invoices after ${invoices[3]!.id}`]);
    expect(await progress()).toMatchObject({ done: true, last_error: null, types: { invoices: { imported: 5, done: true } } });
    for (const invoice of invoices) expect(await billingRow("invoices", invoice.id)).not.toBeNull();
  });

  it("pauses on a refusal a retry cannot fix (403): the cron leaves it alone until a start resumes it at its cursor", async () => {
    const charges = Array.from({ length: 3 }, () => stripeObject("charge", { id: uid("ch") }));
    let refuse = true;
    const seen = stubStripeApi(
      ...emptyLists(["charges"]),
      listApi("charges", charges, (q) => (refuse && q.has("starting_after") ? stripeError(403, "invalid_request_error") : undefined)),
    );

    expect((await run(true, { pageSize: 2 })).outcome).toBe("paused");
    const paused = await progress();
    expect(paused).toMatchObject({
      status: "paused",
      done: false,
      types: { charges: { imported: 2, done: false } },
      last_error: { status: 403 },
    });
    expect(paused.last_error!.message).toMatch(/paused.*may read .*Charges/);

    const before = seen.length;
    expect((await run(false, { pageSize: 2 })).outcome).toBe("not_running");
    expect(seen).toHaveLength(before);

    refuse = false;
    expect((await run(true, { pageSize: 2 })).outcome).toBe("done");
    expect(listRequests(seen).at(-1)).toBe(`/v1/charges after ${charges[1]!.id}`);
    expect(await progress()).toMatchObject({ status: "done", types: { charges: { imported: 3, done: true } } });
  });

  it("runs nothing while another invocation holds the lease", async () => {
    const seen = stubStripeApi(...emptyLists());
    await env.DB.prepare("INSERT INTO job_state (key, value, updated_at) VALUES ('backfill_lease', ?, 0)")
      .bind(JSON.stringify({ holder: "other", until: NOW_MS + 30_000 }))
      .run();
    expect((await run(true)).outcome).toBe("busy");
    expect(seen).toEqual([]);
    // Once the other holder's lease has run out, it is taken over.
    expect((await run(true, {}, NOW_MS + 30_000)).outcome).toBe("done");
  });

  it("does nothing without STRIPE_SECRET_KEY", async () => {
    const seen = stubStripeApi();
    expect(await run(true, {}, NOW_MS, env)).toMatchObject({ outcome: "no_api_key", state: null });
    expect(seen).toEqual([]);
  });
});

describe("backfill: no fulfilment for history", () => {
  it("projects paid Checkout Sessions and invoices without running a fulfilment hook, from the cron too", async () => {
    const objects = account(2);
    stubStripeApi(...LISTED.map((t) => listApi(t, objects[t])), featureList([]), ...otherCronCalls());
    const fulfilled: string[] = [];
    const handlers = billingHandlers()
      .fulfil("checkout_session.paid", (s) => void fulfilled.push(s.id))
      .fulfil("invoice.paid", (i) => void fulfilled.push(i.id ?? ""));

    // Started with one page, then continued by the Worker's own cron with the real limits.
    expect((await run(true, { maxPages: 1 })).outcome).toBe("budget");
    await runCron(NOW_MS, { env: KEY, handlers });
    expect((await progress()).done).toBe(true);

    for (const s of objects.checkout_sessions)
      expect(await billingRow("checkout_sessions", s.id)).toMatchObject({ payment_status: "paid" });
    for (const i of objects.invoices) expect(await billingRow("invoices", i.id)).toMatchObject({ status: "paid" });
    expect(fulfilled).toEqual([]);
    const ids = [...objects.checkout_sessions, ...objects.invoices].map((o) => o.id);
    const claims = await env.DB.prepare(`SELECT count(*) AS n FROM fulfilments WHERE object_id IN (${ids.map(() => "?").join(",")})`)
      .bind(...ids)
      .first<{ n: number }>();
    expect(claims?.n).toBe(0);

    // The hooks are live: a payment event (a purchase happening now) still runs its hook once.
    const paid = { ...objects.invoices[0]!, status: "paid" };
    await processEvents([eventAt("invoice.paid", paid, Math.floor(NOW_MS / 1000) + 60)], handlers, KEY);
    expect(fulfilled).toEqual([paid.id]);
  });
});
