import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { jobState } from "../src/db/schema";
import { eventAt, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { ledgerRow } from "./helpers/ledger";
import { firings, lifecycleEnv, processWithLifecycle, recordingLifecycle } from "./helpers/lifecycle";
import { runBatch } from "./helpers/worker";

// Lifecycle hooks are derived from the billing state, not from event types: Stripe delivers events
// at least once and in any order, and an app's "access revoked" email must go out once per
// transition, never for a duplicate or for a stale event arriving late.

const T = 1_760_000_000;

/** A subscription of a fresh customer, and its events by status: `at(status, created)`. */
function subscriptionOf() {
  const customer = uid("cus");
  const id = uid("sub");
  const at = (type: string, status: string, created: number, fields: Record<string, unknown> = {}) =>
    eventAt(type, stripeObject("subscription", { id, customer, status, ...fields }), created);
  return { customer, id, at };
}

/** An invoice of `subscription` whose payment attempt `attempt` failed (status `open`). */
function failedInvoice(id: string, customer: string, subscription: string, attempt: number, created: number) {
  const invoice = stripeObject("invoice", {
    id,
    customer,
    status: "open",
    attempt_count: attempt,
    parent: { type: "subscription_details", quote_details: null, subscription_details: { metadata: null, subscription } },
  });
  return eventAt("invoice.payment_failed", invoice, created);
}

describe("access and past_due hooks", () => {
  it("fire once per transition when deliveries are duplicated: granted, past_due, revoked", async () => {
    const { customer, id, at } = subscriptionOf();
    const { handlers, fired } = recordingLifecycle();
    const created = at("customer.subscription.created", "active", T);
    const pastDue = at("customer.subscription.updated", "past_due", T + 10);
    // A second event about the same failure (Stripe sends one per change it makes), already past_due.
    const stillPastDue = at("customer.subscription.updated", "past_due", T + 15, { cancel_at_period_end: true });
    const deleted = at("customer.subscription.deleted", "canceled", T + 20);
    expect(await processWithLifecycle([created, created, pastDue, pastDue, stillPastDue, deleted, deleted], handlers)).toEqual([]);

    expect(firings(fired)).toEqual([`access.granted ${customer}`, `subscription.past_due ${id}`, `access.revoked ${customer}`]);
    expect(fired[1]).toMatchObject({ kind: "subscription.past_due", account: "", customerId: customer, triggerEventId: pastDue.id });
    expect(fired[1]!.object).toMatchObject({ id, status: "past_due" });
    // Each transition is one ledger event, named for it, done.
    for (const lifecycleId of [`lc_access_p_${customer}_1`, `lc_past_due_p_${id}_${pastDue.id}`, `lc_access_p_${customer}_2`]) {
      expect(await ledgerRow(lifecycleId)).toMatchObject({ format: "lifecycle", status: "processed", livemode: 0 });
    }
    expect(await ledgerRow(`lc_access_p_${customer}_2`)).toMatchObject({ type: "lifecycle.access.revoked", object_id: customer });

    // The queue delivering a lifecycle event's message again runs no hook twice.
    await runBatch([`lc_access_p_${customer}_1`, `lc_past_due_p_${id}_${pastDue.id}`], { handlers, env: lifecycleEnv() });
    expect(fired).toHaveLength(3);
  });

  it("fire nothing for events older than the state they would change", async () => {
    const { customer, id, at } = subscriptionOf();
    const { handlers, fired } = recordingLifecycle();
    // Delivered newest first: the deletion, then the past_due update and the creation it outdates.
    await processWithLifecycle(
      [
        at("customer.subscription.deleted", "canceled", T + 20),
        at("customer.subscription.updated", "past_due", T + 10),
        at("customer.subscription.created", "active", T),
      ],
      handlers,
    );
    // Access was never observed: a canceled subscription is all this customer ever had.
    expect(firings(fired)).toEqual([]);
    expect(await countLifecycle(customer, id)).toBe(0);
  });

  it("fire past_due and granted once when the past_due update overtakes the creation", async () => {
    const { customer, id, at } = subscriptionOf();
    const { handlers, fired } = recordingLifecycle();
    const pastDue = at("customer.subscription.updated", "past_due", T + 10);
    await processWithLifecycle([pastDue, at("customer.subscription.created", "active", T), pastDue], handlers);
    // past_due still grants access by default (PAST_DUE_GRANTS_ACCESS unset).
    expect(firings(fired)).toEqual([`subscription.past_due ${id}`, `access.granted ${customer}`]);
  });

  it("revoke access on past_due with PAST_DUE_GRANTS_ACCESS=false, and grant it again once active", async () => {
    const { customer, id, at } = subscriptionOf();
    const { handlers, fired } = recordingLifecycle();
    const strict = lifecycleEnv({ PAST_DUE_GRANTS_ACCESS: "false" } as Partial<Env>);
    const pastDue = at("customer.subscription.updated", "past_due", T + 10);
    await processWithLifecycle(
      [at("customer.subscription.created", "active", T), pastDue, pastDue, at("customer.subscription.updated", "active", T + 20)],
      handlers,
      strict,
    );
    expect(firings(fired)).toEqual([
      `access.granted ${customer}`,
      `subscription.past_due ${id}`,
      `access.revoked ${customer}`,
      `access.granted ${customer}`,
    ]);
    // The revocation came from the past_due update.
    expect(fired[2]).toMatchObject({ triggerEventId: pastDue.id });
  });

  it("keep access through past_due with the default, revoking it only when the subscription ends", async () => {
    const { customer, at } = subscriptionOf();
    const { handlers, fired } = recordingLifecycle();
    await processWithLifecycle(
      [at("customer.subscription.created", "active", T), at("customer.subscription.updated", "past_due", T + 10)],
      handlers,
    );
    expect(fired.filter((c) => c.kind.startsWith("access."))).toEqual([
      expect.objectContaining({ kind: "access.granted", customerId: customer }),
    ]);
  });

  it("record no lifecycle event for a kind without a hook", async () => {
    const { id, at } = subscriptionOf();
    const granted: string[] = [];
    const handlers = billingHandlers().lifecycle("access.granted", (change) => void granted.push(change.objectId));
    const pastDue = at("customer.subscription.updated", "past_due", T);
    await processWithLifecycle([pastDue], handlers);
    expect(granted).toHaveLength(1);
    expect(await ledgerRow(`lc_past_due_p_${id}_${pastDue.id}`)).toBeNull();
  });
});

describe("trial_ending and payment_failed hooks", () => {
  it("fire trial_ending once per trial end, however many trial_will_end events report it", async () => {
    const { id, at } = subscriptionOf();
    const { handlers, fired } = recordingLifecycle();
    const trialEnd = T + 3 * 86_400;
    const first = at("customer.subscription.trial_will_end", "trialing", T, { trial_end: trialEnd });
    const again = at("customer.subscription.trial_will_end", "trialing", T + 5, { trial_end: trialEnd });
    // The trial was extended: a new trial end is a new transition.
    const extended = at("customer.subscription.trial_will_end", "trialing", T + 86_400, { trial_end: trialEnd + 7 * 86_400 });
    await processWithLifecycle([first, first, again, extended], handlers);
    expect(firings(fired).filter((f) => f.startsWith("subscription.trial_ending"))).toEqual([
      `subscription.trial_ending ${id}`,
      `subscription.trial_ending ${id}`,
    ]);
    expect(await ledgerRow(`lc_trial_ending_p_${id}_${trialEnd}`)).toMatchObject({ status: "processed" });
    expect(await ledgerRow(`lc_trial_ending_p_${id}_${trialEnd + 7 * 86_400}`)).toMatchObject({ status: "processed" });
  });

  it("fire payment_failed once per payment attempt, and not for a late failure of an invoice since paid", async () => {
    const { customer, id: sub } = subscriptionOf();
    const { handlers, fired } = recordingLifecycle();
    const invoiceId = uid("in");
    const attempt1 = failedInvoice(invoiceId, customer, sub, 1, T);
    const attempt1Again = failedInvoice(invoiceId, customer, sub, 1, T + 1);
    const attempt2 = failedInvoice(invoiceId, customer, sub, 2, T + 86_400);
    const paid = eventAt(
      "invoice.paid",
      stripeObject("invoice", { id: invoiceId, customer, status: "paid", attempt_count: 3 }),
      T + 3 * 86_400,
    );
    const lateAttempt3 = failedInvoice(invoiceId, customer, sub, 3, T + 2 * 86_400);
    await processWithLifecycle([attempt1, attempt1, attempt1Again, attempt2, paid, lateAttempt3], handlers);
    expect(firings(fired)).toEqual([`invoice.payment_failed ${invoiceId}`, `invoice.payment_failed ${invoiceId}`]);
    expect(fired.map((c) => c.triggerEventId)).toEqual([attempt1.id, attempt2.id]);
    expect(await ledgerRow(`lc_payment_failed_p_${invoiceId}_3`)).toBeNull();
  });
});

describe("a hook's ctx.write", () => {
  /** Handlers whose past_due hook writes a job_state row, and throws after writing while `failing`. */
  function writingHook(key: string) {
    const state = { failing: false };
    const handlers = billingHandlers().lifecycle("subscription.past_due", (change, ctx) => {
      ctx.write(ctx.db.insert(jobState).values({ key, value: change.objectId, updatedAt: ctx.nowMs }));
      if (state.failing) throw new Error("the app's mail service is down");
    });
    return { handlers, state };
  }

  const jobRow = (key: string) => env.DB.prepare("SELECT value FROM job_state WHERE key = ?").bind(key).first<{ value: string }>();

  it("commits with the lifecycle event's done mark", async () => {
    const { id, at } = subscriptionOf();
    const key = uid("test_hook_write");
    const { handlers } = writingHook(key);
    const pastDue = at("customer.subscription.updated", "past_due", T);
    await processWithLifecycle([pastDue], handlers);
    expect(await ledgerRow(`lc_past_due_p_${id}_${pastDue.id}`)).toMatchObject({ status: "processed", attempts: 1 });
    expect(await jobRow(key)).toEqual({ value: id });
  });

  it("is not committed when the hook fails, and is committed once by the retry that succeeds", async () => {
    const { id, at } = subscriptionOf();
    const key = uid("test_hook_write");
    const { handlers, state } = writingHook(key);
    const pastDue = at("customer.subscription.updated", "past_due", T);
    const lifecycleId = `lc_past_due_p_${id}_${pastDue.id}`;
    state.failing = true;
    expect(await processWithLifecycle([pastDue], handlers)).toEqual([lifecycleId]);
    // The subscription's own event is done: only the hook's event waits for a retry.
    expect(await ledgerRow(pastDue.id)).toMatchObject({ status: "processed" });
    expect(await ledgerRow(lifecycleId)).toMatchObject({ status: "failed", last_error: expect.stringContaining("mail service is down") });
    expect(await jobRow(key)).toBeNull();

    state.failing = false;
    expect(await runBatch([lifecycleId], { handlers, env: lifecycleEnv(), attempts: 2 })).toMatchObject({ acked: [lifecycleId] });
    expect(await ledgerRow(lifecycleId)).toMatchObject({ status: "processed", attempts: 2 });
    expect(await jobRow(key)).toEqual({ value: id });
  });
});

/** How many lifecycle events exist for a customer or a subscription. */
async function countLifecycle(customer: string, subscription: string): Promise<number> {
  const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM stripe_events WHERE format = 'lifecycle' AND object_id IN (?, ?)")
    .bind(customer, subscription)
    .first<{ n: number }>();
  return row?.n ?? 0;
}
