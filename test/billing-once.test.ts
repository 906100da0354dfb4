import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { createDb } from "../src/db/client";
import { customers } from "../src/db/schema";
import { FULFILMENT_CLAIM_MS, once } from "../src/handlers/once";
import { eventAt, processEvents, stripeObject } from "./helpers/billing";
import { uid } from "./helpers/events";
import { ledgerRow, setRow } from "./helpers/ledger";

const T = 1_760_000_000;

function paidInvoice() {
  return stripeObject("invoice", { id: uid("in"), status: "paid", amount_paid: 2000, amount_due: 2000 });
}

describe("once-only fulfilment", () => {
  it("credits a paid invoice once when Stripe sends both invoice.paid and invoice.payment_succeeded", async () => {
    const credited: string[] = [];
    const handlers = billingHandlers().fulfil("invoice.paid", (invoice) => void credited.push(invoice.id ?? ""));
    const invoice = paidInvoice();
    await processEvents([eventAt("invoice.paid", invoice, T), eventAt("invoice.payment_succeeded", invoice, T)], handlers);
    expect(credited).toEqual([invoice.id]);
  });

  it("fulfils a checkout once across completion, a second Event for the same change, and a replay", async () => {
    const granted: string[] = [];
    const handlers = billingHandlers().fulfil("checkout_session.paid", (session) => void granted.push(session.id));
    const session = stripeObject("checkoutSession", { id: uid("cs_test"), status: "complete", payment_status: "paid" });
    const completed = eventAt("checkout.session.completed", session, T);
    await processEvents([completed, eventAt("checkout.session.completed", session, T + 1)], handlers);
    // A replay: the operator puts the processed event back in the queue.
    await setRow(completed.id, { status: "received" });
    await processEvents([{ ...completed, id: completed.id }], handlers);
    expect(granted).toEqual([session.id]);
  });

  it("fulfils a delayed-payment checkout when the payment succeeds, not when the session completes unpaid", async () => {
    const granted: string[] = [];
    const handlers = billingHandlers().fulfil("checkout_session.paid", (session) => void granted.push(session.payment_status));
    const id = uid("cs_test");
    await processEvents(
      [eventAt("checkout.session.completed", stripeObject("checkoutSession", { id, status: "complete", payment_status: "unpaid" }), T)],
      handlers,
    );
    expect(granted).toEqual([]);
    await processEvents(
      [
        eventAt(
          "checkout.session.async_payment_succeeded",
          stripeObject("checkoutSession", { id, status: "complete", payment_status: "paid" }),
          T + 60,
        ),
      ],
      handlers,
    );
    expect(granted).toEqual(["paid"]);
  });

  it("retries a failed hook with its event and runs it once when it succeeds", async () => {
    let calls = 0;
    const handlers = billingHandlers().fulfil("invoice.paid", () => {
      if (++calls === 1) throw new Error("ledger service down");
    });
    const event = eventAt("invoice.paid", paidInvoice(), T);
    expect(await processEvents([event], handlers)).toEqual([event.id]);
    expect(await ledgerRow(event.id)).toMatchObject({ status: "failed", last_error: "Error: ledger service down" });

    await processEvents([event], handlers); // the queue's retry of the same event
    expect(await ledgerRow(event.id)).toMatchObject({ status: "processed" });
    await processEvents([eventAt("invoice.payment_succeeded", paidInvoice(), T)], handlers);
    expect(calls).toBe(3); // failed once, succeeded once; the other invoice is a different object
  });

  it("commits a hook's ctx.write with the mark that it is done, and nothing of a hook that throws", async () => {
    const credit = (fail: boolean) =>
      billingHandlers().fulfil("invoice.paid", (invoice, event, ctx) => {
        ctx.write(
          ctx.db.insert(customers).values({
            id: `cus_credit_${invoice.id}`,
            email: null,
            livemode: false,
            lastEventCreated: T,
            lastEventId: event.id,
            updatedAt: ctx.nowMs,
          }),
        );
        if (fail) throw new Error("mailer down after queueing the write");
      });
    const invoice = paidInvoice();
    const event = eventAt("invoice.paid", invoice, T);
    const credited = () =>
      env.DB.prepare("SELECT COUNT(*) AS n FROM customers WHERE id = ?").bind(`cus_credit_${invoice.id}`).first<{ n: number }>();
    const fulfilment = () =>
      env.DB.prepare("SELECT status FROM fulfilments WHERE object_id = ? AND kind = 'invoice.paid'")
        .bind(invoice.id)
        .first<{ status: string }>();

    expect(await processEvents([event], credit(true))).toEqual([event.id]);
    expect((await credited())?.n).toBe(0);
    expect((await fulfilment())?.status).toBe("pending");

    await processEvents([event], credit(false));
    expect((await credited())?.n).toBe(1);
    expect((await fulfilment())?.status).toBe("done");
  });

  it("refuses to run an effect another attempt holds, then takes it over once the claim has expired", async () => {
    const db = createDb(env.DB);
    const objectId = uid("in");
    let release!: () => void;
    const first = once(
      db,
      { account: "", objectId, kind: "invoice.paid", eventId: "evt_a", nowMs: 1_000 },
      () => new Promise<void>((r) => (release = r)),
    );
    await vi.waitFor(() => expect(release).toBeDefined());
    await expect(once(db, { account: "", objectId, kind: "invoice.paid", eventId: "evt_b", nowMs: 2_000 }, async () => {})).rejects.toThrow(
      /being fulfilled/,
    );

    // evt_a's consumer "dies": its claim expires, and evt_c may take the effect over.
    let ranC = false;
    expect(
      await once(db, { account: "", objectId, kind: "invoice.paid", eventId: "evt_c", nowMs: 1_000 + FULFILMENT_CLAIM_MS }, async () => {
        ranC = true;
      }),
    ).toBe(true);
    expect(ranC).toBe(true);
    release();
    await first;
    expect(await once(db, { account: "", objectId, kind: "invoice.paid", eventId: "evt_d", nowMs: 10 ** 13 }, async () => {})).toBe(false);
  });
});
