import { env } from "cloudflare:workers";
import { HttpResponse, http } from "msw";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { defaultHandlers } from "../src";
import { billingHandlers } from "../src/billing/handlers";
import { RECOVERY_INTERVAL_MS } from "../src/recovery/pass";
import { recoverMissedEvents } from "../src/recovery/snapshot";
import { billingRow, eventAt, processEvents, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { ledgerRow } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { testDeps } from "./helpers/worker";

// The recovery starts from what the ledger holds, so each scenario starts from an empty ledger, as
// a new install would.
beforeEach(async () => {
  await env.DB.batch([env.DB.prepare("DELETE FROM stripe_events"), env.DB.prepare("DELETE FROM job_state")]);
});

type StripeEvent = Record<string, unknown> & { id: string; created: number };

/**
 * A Stripe account's Events API at the network edge: `GET /v1/events` with `created[gt]`,
 * `created[lte]`, `delivery_success`, `limit` and `starting_after`, newest first, as Stripe pages it.
 */
function eventsApi(events: StripeEvent[], undelivered: Set<string>) {
  return http.get("https://api.stripe.com/v1/events", ({ request }) => {
    const q = new URL(request.url).searchParams;
    const gt = q.get("created[gt]");
    const lte = q.get("created[lte]");
    const limit = Number(q.get("limit") ?? 10);
    let list = [...events].sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
    if (gt !== null) list = list.filter((e) => e.created > Number(gt));
    if (lte !== null) list = list.filter((e) => e.created <= Number(lte));
    if (q.get("delivery_success") === "false") list = list.filter((e) => undelivered.has(e.id));
    const after = q.get("starting_after");
    if (after !== null) list = list.slice(list.findIndex((e) => e.id === after) + 1);
    return HttpResponse.json({ object: "list", url: "/v1/events", has_more: list.length > limit, data: list.slice(0, limit) });
  });
}

const KEY = envWith({ STRIPE_SECRET_KEY: "rk_test_recovery" });
const waitProcessed = (ids: string[]) =>
  vi.waitFor(
    async () => {
      for (const id of ids) expect((await ledgerRow(id))?.status).toMatch(/^(processed|ignored)$/);
    },
    { timeout: 15_000, interval: 200 },
  );

describe("recovering events Stripe never delivered", () => {
  it("does nothing without STRIPE_SECRET_KEY", async () => {
    const seen = stubStripeApi();
    expect(await recoverMissedEvents(testDeps({ handlers: defaultHandlers(), now: Date.now() }))).toMatchObject({
      skipped: "no_api_key",
      recovered: 0,
    });
    expect(seen).toEqual([]);
  });

  it("restores a multi-day outage: the state ends as if every event had been delivered", async () => {
    const now = Date.now();
    const day = 86400;
    const t0 = Math.floor(now / 1000) - 4 * day;
    const sub = stripeObject("subscription", { id: uid("sub"), customer: uid("cus") });
    const lifecycle = [
      eventAt("customer.subscription.created", { ...sub, status: "incomplete" }, t0),
      eventAt("customer.subscription.updated", { ...sub, status: "active" }, t0 + 1 * day), // outage from here…
      eventAt("customer.subscription.updated", { ...sub, status: "past_due" }, t0 + 2 * day),
      eventAt("customer.subscription.updated", { ...sub, status: "active", cancel_at_period_end: true }, t0 + 3 * day), // …to here
      eventAt("customer.subscription.updated", { ...sub, status: "active", cancel_at_period_end: false }, t0 + 3 * day + 3600),
      eventAt("customer.subscription.deleted", { ...sub, status: "canceled" }, t0 + 4 * day - 60), // never delivered, not yet retried
    ] as StripeEvent[];
    const delivered = [lifecycle[0]!, lifecycle[4]!];
    await processEvents(delivered);
    const undelivered = new Set([lifecycle[1]!.id, lifecycle[2]!.id, lifecycle[3]!.id]);
    const seen = stubStripeApi(eventsApi(lifecycle, undelivered));

    const report = await recoverMissedEvents(testDeps({ env: KEY, handlers: defaultHandlers(), now: now }));
    expect(report).toMatchObject({ recovered: 4, passComplete: true });
    expect(seen.every((r) => r.headers.get("authorization") === "Bearer rk_test_recovery")).toBe(true);
    await waitProcessed(lifecycle.map((e) => e.id));
    expect((await ledgerRow(lifecycle[2]!.id))?.source).toBe("recovery");
    expect((await ledgerRow(lifecycle[0]!.id))?.source).toBe("webhook");
    expect(await billingRow("subscriptions", sub.id)).toMatchObject({ status: "canceled", last_event_created: t0 + 4 * day - 60 });

    // Running it again any time recovers nothing new.
    expect(await recoverMissedEvents(testDeps({ env: KEY, handlers: defaultHandlers(), now: now + RECOVERY_INTERVAL_MS }))).toMatchObject({
      recovered: 0,
    });
  });

  it("reads a bounded number of pages per run and resumes where it stopped", async () => {
    const now = Date.now();
    const start = Math.floor(now / 1000) - 3600;
    const anchor = eventAt("customer.created", stripeObject("customer", { id: uid("cus") }), start - 3600) as StripeEvent;
    await processEvents([anchor]);
    const missed = Array.from(
      { length: 25 },
      (_, i) => eventAt("customer.updated", stripeObject("customer", { id: uid("cus") }), start + i) as StripeEvent,
    );
    stubStripeApi(eventsApi([anchor, ...missed], new Set()));

    const runs = [];
    for (let i = 0; i < 3; i++)
      runs.push(
        await recoverMissedEvents(testDeps({ env: KEY, handlers: defaultHandlers(), now: now + i * 60_000 }), {
          maxPages: 1,
          pageSize: 10,
        }),
      );
    expect(runs.map((r) => [r.recovered, r.passComplete])).toEqual([
      [10, false],
      [10, false],
      [5, true],
    ]);
    await waitProcessed(missed.map((e) => e.id));
  });

  it("records only event types that have a handler and nothing older than the ledger's first event", async () => {
    const now = Date.now();
    const base = Math.floor(now / 1000) - 7200;
    const first = eventAt("customer.created", stripeObject("customer", { id: uid("cus") }), base) as StripeEvent;
    await processEvents([first]);
    const unhandled = eventAt("plan.created", { id: "plan_1", object: "plan" }, base + 60) as StripeEvent;
    const ancient = eventAt("customer.updated", stripeObject("customer", { id: uid("cus") }), base - 10 * 86400) as StripeEvent;
    stubStripeApi(eventsApi([first, unhandled, ancient], new Set([ancient.id, unhandled.id])));

    const report = await recoverMissedEvents(testDeps({ env: KEY, handlers: billingHandlers(), now: now }));
    expect(report.recovered).toBe(0);
    expect(await ledgerRow(unhandled.id)).toBeNull();
    expect(await ledgerRow(ancient.id)).toBeNull();
  });

  it("never records again an event older than the ledger's retention, which retention may have deleted after processing it", async () => {
    const now = Date.now();
    const day = 86400;
    const nowS = Math.floor(now / 1000);
    const anchor = eventAt("customer.created", stripeObject("customer", { id: uid("cus") }), nowS - 10 * day) as StripeEvent;
    await processEvents([anchor]);
    // Processed four days ago and deleted by a 3-day retention since; Stripe still lists it as undelivered.
    const pruned = eventAt("customer.updated", stripeObject("customer", { id: uid("cus") }), nowS - 4 * day) as StripeEvent;
    const recent = eventAt("customer.updated", stripeObject("customer", { id: uid("cus") }), nowS - 2 * day) as StripeEvent;
    stubStripeApi(eventsApi([anchor, pruned, recent], new Set([pruned.id, recent.id])));

    const retained = envWith({ STRIPE_SECRET_KEY: "rk_test_recovery", LEDGER_RETENTION_DAYS: "3" });
    const report = await recoverMissedEvents(testDeps({ env: retained, handlers: billingHandlers(), now }));
    expect(await ledgerRow(pruned.id)).toBeNull();
    expect(await ledgerRow(recent.id)).toMatchObject({ source: "recovery" });
    expect(report.recovered).toBe(1);
  });
});
