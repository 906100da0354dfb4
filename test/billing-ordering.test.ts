import { HttpResponse, http } from "msw";
import { describe, expect, it } from "vitest";
import { billingRow, eventAt, processEvents, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { stubStripeApi } from "./helpers/stripe-api";

const T = 1_760_000_000;
/** A subscription id of its own for every scenario, so no scenario sees another's row. */

/** A subscription's lifecycle as Stripe would send it, oldest first: [type, fields, created]. */
const LIFECYCLE: [string, Record<string, unknown>, number][] = [
  ["customer.subscription.created", { status: "incomplete" }, T],
  ["customer.subscription.updated", { status: "active" }, T + 10],
  ["customer.subscription.trial_will_end", { status: "active", trial_end: T + 3 * 86400 }, T + 20],
  ["customer.subscription.paused", { status: "paused" }, T + 30],
  ["customer.subscription.resumed", { status: "active" }, T + 40],
  ["customer.subscription.updated", { status: "past_due", cancel_at_period_end: true }, T + 50],
  ["customer.subscription.deleted", { status: "canceled", canceled_at: T + 60 }, T + 60],
];

/** Fresh events (new ids) for the lifecycle steps at `indexes` of subscription `sub`, in that order. */
function events(sub: string, indexes: number[]) {
  return indexes.map((i) => {
    const [type, fields, created] = LIFECYCLE[i]!;
    return eventAt(type, stripeObject("subscription", { id: sub, customer: "cus_ordering", ...fields }), created);
  });
}

/** The row a new subscription ends with after the steps at `indexes`, without its id. */
async function finalState(indexes: number[]) {
  const sub = uid("sub_ordering");
  expect(await processEvents(events(sub, indexes))).toEqual([]);
  const { id: _id, ...row } = (await billingRow("subscriptions", sub))!;
  return row;
}

/** Deterministic permutations so a failure names the order that broke. */
function shuffled(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

const pairs = LIFECYCLE.flatMap((_, i) => LIFECYCLE.slice(i + 1).map((__, k) => [i, i + 1 + k] as const));

describe("billing state under reordering", () => {
  it.each(pairs)("ends the same whether lifecycle steps %i and %i arrive in order or reversed", async (a, b) => {
    const inOrder = await finalState([a, b]);
    const reversed = await finalState([b, a]);
    expect(reversed).toEqual(inOrder);
    expect(inOrder).toMatchObject({ status: LIFECYCLE[b]![1].status, last_event_created: LIFECYCLE[b]![2] });
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])("ends a shuffled full lifecycle (seed %i) in the in-order state", async (seed) => {
    const all = LIFECYCLE.map((_, i) => i);
    const expected = await finalState(all);
    expect(await finalState(shuffled(all.length, seed))).toEqual(expected);
    expect(expected).toMatchObject({ status: "canceled", canceled_at: T + 60 });
  });

  it("creates the row from an .updated that arrives before .created, and the late .created changes nothing", async () => {
    const sub = uid("sub_ordering");
    await processEvents(events(sub, [1]));
    expect(await billingRow("subscriptions", sub)).toMatchObject({ status: "active" });
    await processEvents(events(sub, [0]));
    expect(await billingRow("subscriptions", sub)).toMatchObject({ status: "active", last_event_created: T + 10 });
  });

  it.each([
    ["active then past_due", ["active", "past_due"], "past_due"],
    ["past_due then active", ["past_due", "active"], "active"],
  ])("applies same-second events in arrival order when no API key is set (%s)", async (_name, statuses, last) => {
    const sub = uid("sub_ordering");
    await processEvents(
      statuses.map((status) => eventAt("customer.subscription.updated", stripeObject("subscription", { id: sub, status }), T)),
    );
    expect(await billingRow("subscriptions", sub)).toMatchObject({ status: last });
  });

  it("stores the object fetched from the Stripe API on a same-second tie when STRIPE_SECRET_KEY is set", async () => {
    const SUB = uid("sub_ordering");
    const current = stripeObject("subscription", { id: SUB, status: "past_due", cancel_at_period_end: true });
    const seen = stubStripeApi(http.get(`https://api.stripe.com/v1/subscriptions/${SUB}`, () => HttpResponse.json(current)));
    const env = envWith({ STRIPE_SECRET_KEY: "rk_test_ordering" });
    const a = eventAt("customer.subscription.updated", stripeObject("subscription", { id: SUB, status: "active" }), T);
    const b = eventAt("customer.subscription.updated", stripeObject("subscription", { id: SUB, status: "unpaid" }), T);

    expect(await processEvents([a, b], undefined, env)).toEqual([]);
    expect(await billingRow("subscriptions", SUB)).toMatchObject({ status: "past_due", cancel_at_period_end: 1 });
    expect(seen.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([`GET /v1/subscriptions/${SUB}`]);
    expect(seen[0]!.headers.get("authorization")).toBe("Bearer rk_test_ordering");
  });

  it("does not call the Stripe API for events that are newer or older than the stored one", async () => {
    const sub = uid("sub_ordering");
    const seen = stubStripeApi();
    expect(await processEvents(events(sub, [2, 0, 1, 3]), undefined, envWith({ STRIPE_SECRET_KEY: "rk_test_ordering" }))).toEqual([]);
    expect(seen).toEqual([]);
    expect(await billingRow("subscriptions", sub)).toMatchObject({ status: "paused", last_event_created: T + 30 });
  });
});
