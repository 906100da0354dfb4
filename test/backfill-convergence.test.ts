import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { runBackfill } from "../src/backfill/run";
import { billingHandlers } from "../src/billing/handlers";
import { FETCH_CLOCK_MARGIN_SECONDS } from "../src/billing/sources";
import { billingRow, eventAt, processEvents, stripeObject } from "./helpers/billing";
import { type TestEvent, uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { stubStripeApi } from "./helpers/stripe-api";
import { emptyLists, listApi } from "./helpers/stripe-lists";
import { testDeps } from "./helpers/worker";

// A webhook event and the backfill's list page for the same subscription, in every interleaving: the
// row must end in the newest state Stripe had, whichever is written first.

const KEY = envWith({ STRIPE_SECRET_KEY: "rk_test_backfill_convergence" });
const T = 1_770_000_000;
/** The backfill's clock: 100.4 s after T. Its page is stamped T + 100 − the margin. */
const READ_MS = (T + 100) * 1000 + 400;
const STAMP = T + 100 - FETCH_CLOCK_MARGIN_SECONDS;

beforeEach(async () => {
  await env.DB.prepare("DELETE FROM job_state WHERE key IN ('backfill', 'backfill_lease')").run();
});

const version = (id: string, status: string) => stripeObject("subscription", { id, status });
/** A `customer.subscription.updated` Stripe created at `created` for the change to `status`. */
const webhook = (id: string, status: string, created: number) => eventAt("customer.subscription.updated", version(id, status), created);
const deliver = (event: TestEvent) => processEvents([event], billingHandlers(), KEY, () => (T + 300) * 1000);

/**
 * Runs the backfill over an account whose only object is this subscription as Stripe returns it at
 * the read; `inFlight` runs while the list request is in flight, after Stripe's read and before the
 * page is written.
 */
async function backfill(listed: Record<string, unknown> & { id: string }, inFlight?: () => Promise<unknown>) {
  stubStripeApi(
    ...emptyLists(["subscriptions"]),
    listApi("subscriptions", [listed], async () => {
      await inFlight?.();
      return undefined;
    }),
  );
  expect((await runBackfill(testDeps({ env: KEY, now: () => READ_MS }), { start: true })).outcome).toBe("done");
  vi.restoreAllMocks();
}

describe("a webhook and the backfill for the same subscription converge on the newest state", () => {
  it(
    "webhook first, then the backfill reads a newer state: " + "the backfill's state wins, and the late event of that change is stale",
    async () => {
      const id = uid("sub");
      await deliver(webhook(id, "past_due", T + 10));
      await backfill(version(id, "active")); // changed to active at T + 50; that event is still on its way
      expect(await billingRow("subscriptions", id)).toMatchObject({ status: "active", last_event_created: STAMP });
      await deliver(webhook(id, "active", T + 50));
      await deliver(webhook(id, "past_due", T + 10)); // a retry of the first delivery
      expect(await billingRow("subscriptions", id)).toMatchObject({ status: "active", last_event_created: STAMP });
    },
  );

  it("backfill first, then an event created before its read: the event changes nothing", async () => {
    const id = uid("sub");
    await backfill(version(id, "canceled")); // canceled at T + 60
    await deliver(webhook(id, "active", T + 30));
    await deliver(eventAt("customer.subscription.deleted", version(id, "canceled"), T + 60));
    expect(await billingRow("subscriptions", id)).toMatchObject({ status: "canceled", last_event_created: STAMP });
  });

  it("backfill first, then an event created after its read: the event applies", async () => {
    const id = uid("sub");
    await backfill(version(id, "active"));
    await deliver(webhook(id, "past_due", T + 150));
    expect(await billingRow("subscriptions", id)).toMatchObject({ status: "past_due", last_event_created: T + 150 });
  });

  it(
    "the event is processed while the page is in flight, Stripe having read the state before the change: " +
      "the older page does not overwrite it",
    async () => {
      const id = uid("sub");
      await backfill(version(id, "active"), () => deliver(webhook(id, "past_due", T + 101)));
      expect(await billingRow("subscriptions", id)).toMatchObject({ status: "past_due", last_event_created: T + 101 });
    },
  );

  it(
    "a change in the same second as the read, delivered after the page: " + "the event applies (the page is stamped a second early)",
    async () => {
      const id = uid("sub");
      await backfill(version(id, "active")); // read at T + 100.4, just before the change at T + 100 reached it
      await deliver(webhook(id, "unpaid", T + 100));
      expect(await billingRow("subscriptions", id)).toMatchObject({ status: "unpaid", last_event_created: T + 100 });
    },
  );

  it("reading the same page again (a page re-read after a crash, a second run) leaves the row as it was", async () => {
    const id = uid("sub");
    await backfill(version(id, "trialing"));
    const first = await billingRow("subscriptions", id);
    await backfill(version(id, "trialing"));
    expect(await billingRow("subscriptions", id)).toEqual(first);
  });
});
