import { HttpResponse, http } from "msw";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { Handlers } from "../src/handlers/registry";
import { RECOVERY_INTERVAL_MS } from "../src/recovery/pass";
import { recoverMissedEvents } from "../src/recovery/snapshot";
import { recoverMissedThinEvents } from "../src/recovery/thin";
import { createWorker } from "../src/worker";
import { billingRow, processEvents, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { clearLedger, ledgerRow } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { apiObject, relatedTo, type ThinBody, thinEvent } from "./helpers/thin";
import { runBatch, testDeps } from "./helpers/worker";

// The recovery starts from what the Worker has seen, so each scenario starts from nothing.
beforeEach(() => clearLedger());

const KEY = "rk_test_thin_recovery";

/**
 * An account's `GET /v2/core/events` at the network edge: `created[gt]`/`created[lte]` (ISO 8601),
 * `limit`, newest first, the next page at a `next_page_url` that carries its own query, as Stripe pages.
 */
function v2EventsApi(events: ThinBody[]) {
  return http.get("https://api.stripe.com/v2/core/events", ({ request }) => {
    const q = new URL(request.url).searchParams;
    const gt = Date.parse(q.get("created[gt]") ?? "");
    const lte = Date.parse(q.get("created[lte]") ?? "");
    const limit = Number(q.get("limit") ?? 10);
    const offset = Number(q.get("page") ?? 0);
    const list = [...events]
      .sort((a, b) => Date.parse(b.created) - Date.parse(a.created))
      .filter((e) => Date.parse(e.created) > gt && Date.parse(e.created) <= lte);
    const more = list.length > offset + limit;
    const next = new URLSearchParams(q);
    next.set("page", String(offset + limit));
    return HttpResponse.json({
      data: list.slice(offset, offset + limit),
      next_page_url: more ? `/v2/core/events?${next}` : null,
      previous_page_url: null,
    });
  });
}

describe("recovering thin events Stripe never delivered", () => {
  it("does nothing where no thin event was ever processed: the v2 list holds every thin event of the account", async () => {
    const seen = stubStripeApi();
    expect(
      await recoverMissedThinEvents(testDeps({ env: envWith({ STRIPE_SECRET_KEY: KEY }), handlers: billingHandlers(), now: Date.now() })),
    ).toMatchObject({
      skipped: "format_not_in_use",
      recovered: 0,
    });
    expect(await recoverMissedThinEvents(testDeps({ handlers: billingHandlers(), now: Date.now() }))).toMatchObject({
      skipped: "no_api_key",
    });
    expect(
      await recoverMissedThinEvents(testDeps({ env: envWith({ STRIPE_SECRET_KEY: KEY }), handlers: new Handlers(), now: Date.now() })),
    ).toMatchObject({
      skipped: "no_handlers",
    });
    expect(seen).toEqual([]);
  });

  it(
    "records the missed thin events of handled types since the first one processed, across bounded runs, " +
      "and they process like deliveries",
    async () => {
      const now = Date.now();
      const t0 = Math.floor(now / 1000) - 3 * 3600;
      const sub = stripeObject("subscription", { id: uid("sub"), status: "active" });
      const first = thinEvent("v1.customer.subscription.updated", relatedTo(sub), { created: t0 });
      stubStripeApi(apiObject(sub));
      await processEvents([first], billingHandlers(), envWith({ STRIPE_SECRET_KEY: KEY }));

      const missed = Array.from({ length: 5 }, (_, i) =>
        thinEvent("v1.customer.subscription.updated", relatedTo(sub), { created: t0 + 60 * (i + 1) }),
      );
      const unhandled = thinEvent("v1.billing.meter.no_meter_found", null, { created: t0 + 30 });
      // Inside the first pass's overlap window, but before the first thin event this Worker processed.
      const beforeFloor = thinEvent("v1.customer.subscription.updated", relatedTo(sub), { created: t0 - 60 });
      vi.restoreAllMocks();
      const seen = stubStripeApi(v2EventsApi([first, ...missed, unhandled, beforeFloor]), apiObject(sub));
      const held = heldQueue();
      const keyed = envWith({ STRIPE_SECRET_KEY: KEY, EVENTS_QUEUE: held.queue });

      const runs = [];
      for (let i = 0; i < 3; i++)
        runs.push(
          await recoverMissedThinEvents(testDeps({ env: keyed, handlers: billingHandlers(), now: now + i * 60_000 }), {
            maxPages: 1,
            pageSize: 3,
          }),
        );
      expect(runs.map((r) => [r.recovered, r.passComplete])).toEqual([
        [3, false],
        [2, false],
        [0, true],
      ]);
      expect(held.sent.sort()).toEqual(missed.map((e) => e.id).sort());
      expect(await ledgerRow(unhandled.id)).toBeNull();
      expect(await ledgerRow(beforeFloor.id)).toBeNull();
      expect(await ledgerRow(missed[0]!.id)).toMatchObject({ format: "thin", source: "recovery", object_id: sub.id, status: "received" });

      const listed = seen.filter((r) => new URL(r.url).pathname === "/v2/core/events").map((r) => new URL(r.url).searchParams);
      expect(listed[0]!.get("created[gt]")).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
      expect(listed[0]!.get("limit")).toBe("3");
      expect(listed[1]!.get("page")).toBe("3"); // the second run resumed at Stripe's next_page_url

      const consumer = createWorker({ handlers: billingHandlers() });
      expect(await runBatch(held.sent, { worker: consumer, env: envWith({ STRIPE_SECRET_KEY: KEY }) })).toMatchObject({ retried: [] });
      for (const e of missed) expect(await ledgerRow(e.id)).toMatchObject({ status: "processed" });
      expect(await billingRow("subscriptions", sub.id)).toMatchObject({ status: "active" });

      // Not due again until the interval has passed.
      expect(await recoverMissedThinEvents(testDeps({ env: keyed, handlers: billingHandlers(), now: now + 3 * 60_000 }))).toMatchObject({
        skipped: "not_due",
      });
      expect(
        await recoverMissedThinEvents(testDeps({ env: keyed, handlers: billingHandlers(), now: now + 2 * 60_000 + RECOVERY_INTERVAL_MS })),
      ).toMatchObject({
        recovered: 0,
        passComplete: true,
      });
    },
  );

  it("skips the snapshot recovery where only thin events were ever processed: it would record snapshot twins", async () => {
    const sub = stripeObject("subscription", { id: uid("sub") });
    stubStripeApi(apiObject(sub));
    await processEvents(
      [thinEvent("v1.customer.subscription.updated", relatedTo(sub))],
      billingHandlers(),
      envWith({ STRIPE_SECRET_KEY: KEY }),
    );
    vi.restoreAllMocks();
    const seen = stubStripeApi();
    expect(
      await recoverMissedEvents(testDeps({ env: envWith({ STRIPE_SECRET_KEY: KEY }), handlers: billingHandlers(), now: Date.now() })),
    ).toMatchObject({
      skipped: "format_not_in_use",
    });
    expect(seen).toEqual([]);
  });
});
