import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith, heldQueue } from "./helpers/faults";
import { ledgerRow, seedEvent } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { relatedTo, thinEvent } from "./helpers/thin";
import { runBatch } from "./helpers/worker";

// Its own file: the pause this test causes holds the budget (a Durable Object) for 30 s, and every
// test file gets its own.

describe("a 429 from Stripe with Retry-After", () => {
  it("pauses every request of every invocation, and the events wait in the queue instead of failing", async () => {
    let requests = 0;
    stubStripeApi(
      http.get("https://api.stripe.com/v1/subscriptions/:id", () => {
        requests++;
        return HttpResponse.json(
          { error: { type: "rate_limit_error", message: "Too many requests" } },
          { status: 429, headers: { "retry-after": "30" } },
        );
      }),
    );
    const { queue, sent } = heldQueue();
    const testEnv = envWith({ STRIPE_SECRET_KEY: "rk_test_pause", EVENTS_QUEUE: queue });
    const events = Array.from({ length: 6 }, () =>
      thinEvent("v1.customer.subscription.updated", relatedTo(stripeObject("subscription", { id: uid("sub") }))),
    );
    for (const n of events) await seedEvent(n);
    const ids = events.map((n) => n.id);

    const outcome = await runBatch(ids, { handlers: billingHandlers(), env: testEnv });
    // Acked, never retried: a retry would spend an attempt towards the dead-letter queue.
    expect(outcome.retried).toEqual([]);
    expect(outcome.acked.sort()).toEqual([...ids].sort());
    // The requests already granted went out together (at most one per event); then the pause held.
    const sentToStripe = requests;
    expect(sentToStripe).toBeGreaterThan(0);
    expect(sentToStripe).toBeLessThanOrEqual(ids.length);
    for (const id of ids) expect(await ledgerRow(id)).toMatchObject({ status: "received", attempts: 0, redrive_at: expect.any(Number) });
    // Sent again, delayed, as the consumer's own messages.
    expect([...sent].sort()).toEqual([...ids].sort());

    // A second invocation while the pause lasts sends nothing to Stripe at all, and defers again.
    expect((await runBatch(ids, { handlers: billingHandlers(), env: testEnv })).retried).toEqual([]);
    expect(requests).toBe(sentToStripe);
    for (const id of ids) expect(await ledgerRow(id)).toMatchObject({ status: "received", attempts: 0 });
  });
});
