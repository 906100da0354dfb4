import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { replayMatching } from "../src/replay/replay";
import { adminApi, adminCall, adminEnv, consolePage, consoleSession, ORIGIN } from "./helpers/admin";
import { eventAt, processEvents, stripeObject } from "./helpers/billing";
import { buildEvent, OBJECTS, uid } from "./helpers/events";
import { heldQueue } from "./helpers/faults";
import { ledgerRow, seedEvent, setRow } from "./helpers/ledger";
import { runBatch, testDeps } from "./helpers/worker";

const T = 1_760_000_000;

/** An event of a type unique to the test, staged in `status`. */
async function staged(type: string, status: string): Promise<string> {
  const e = buildEvent(type, OBJECTS.customer);
  await seedEvent(e);
  await setRow(e.id, { status, redrive_at: null, last_error: status === "processed" ? null : "Error: staged" });
  return e.id;
}

async function stageMix(type: string) {
  const replayable = [await staged(type, "dead"), await staged(type, "failed"), await staged(type, "dead"), await staged(type, "dead")];
  const processed = await staged(type, "processed");
  const otherType = await staged(`${type}_other`, "dead");
  return { replayable, processed, otherType };
}

describe("bulk replay from the console", () => {
  it("counts the failed and dead events matching the filter on the confirmation page, and for scripts", async () => {
    const type = "customer.test_bulk_count";
    await stageMix(type);
    expect((await adminApi(`/replay?type=${type}`)).body).toEqual({ replayable: 4 });
    expect((await adminApi(`/replay?type=${type}&status=failed`)).body).toEqual({ replayable: 1 });
    expect((await adminApi(`/replay?type=${type}&status=processed`)).body).toEqual({ replayable: 0 });

    const { status, html } = await consolePage(`/admin/replay?type=${type}&status=dead`);
    expect(status).toBe(200);
    expect(html).toContain('data-count="3"');
    expect(html).toContain(`<input type="hidden" name="type" value="${type}"/>`);
    expect(html).toContain("Replay 3 event(s)");
  });

  it("offers the confirmation from a filtered list that holds failed or dead events", async () => {
    const type = "customer.test_bulk_link";
    await stageMix(type);
    const { html } = await consolePage(`/admin?type=${type}&status=dead`);
    expect(html).toContain(`href="/admin/replay?status=dead&amp;type=${type}"`);
  });

  it("replays exactly the matching failed and dead events once confirmed, and says how many", async () => {
    const type = "customer.test_bulk_confirm";
    const { replayable, processed, otherType } = await stageMix(type);
    const cookie = await consoleSession();
    const response = await adminCall("/admin/replay", {
      method: "POST",
      headers: { cookie, origin: ORIGIN },
      body: new URLSearchParams({ type }),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe(`/admin?type=${type}&replayed=4`);
    // A type no handler knows ends `ignored`: each replayed event went through the consumer again.
    for (const id of replayable)
      await vi.waitFor(async () => expect((await ledgerRow(id))?.status).toBe("ignored"), { timeout: 10_000, interval: 100 });
    expect((await ledgerRow(processed))?.status).toBe("processed");
    expect((await ledgerRow(otherType))?.status).toBe("dead");
    expect((await adminApi(`/replay?type=${type}`)).body).toEqual({ replayable: 0 });
  });

  it("stops at its maximum per confirmation and says more remain", async () => {
    const type = "customer.test_bulk_max";
    const { replayable } = await stageMix(type);
    const { queue } = heldQueue();
    const result = await replayMatching(testDeps({ env: adminEnv({ EVENTS_QUEUE: queue }), now: Date.now() }), { type }, 3);
    expect(result).toEqual({ replayed: 3, more: true });
    const left = await Promise.all(replayable.map(async (id) => (await ledgerRow(id))?.status));
    expect(left.filter((s) => s === "received")).toHaveLength(3);
  });

  it.each([
    ["no session", (_cookie: string) => ({ origin: ORIGIN }), 401],
    ["another origin", (cookie: string) => ({ cookie, origin: "https://evil.example" }), 403],
    ["neither Origin nor Sec-Fetch-Site", (cookie: string) => ({ cookie }), 403],
  ])("refuses a bulk replay with %s and replays nothing", async (_name, headersFor, status) => {
    const type = `customer.test_bulk_refused_${status}_${_name.length}`;
    const { replayable } = await stageMix(type);
    const response = await adminCall("/admin/replay", {
      method: "POST",
      headers: headersFor(await consoleSession()),
      body: new URLSearchParams({ type }),
    });
    expect(response.status).toBe(status);
    for (const id of replayable) expect(["dead", "failed"]).toContain((await ledgerRow(id))?.status);
  });
});

describe("replaying a processed event", () => {
  /** A paid checkout, processed once with a fulfilment hook that counts its runs. */
  async function fulfilledCheckout() {
    const granted: string[] = [];
    const handlers = billingHandlers().fulfil("checkout_session.paid", (s) => void granted.push(s.id));
    const session = stripeObject("checkoutSession", { id: uid("cs_test"), status: "complete", payment_status: "paid" });
    const completed = eventAt("checkout.session.completed", session, T);
    await processEvents([completed], handlers);
    expect(granted).toEqual([session.id]);
    return { granted, handlers, completed, session };
  }

  it("needs allow_processed=true, then runs the event again and fulfils nothing twice", async () => {
    const { granted, handlers, completed, session } = await fulfilledCheckout();
    const refused = await adminApi(`/events/${completed.id}/replay`, { method: "POST" });
    expect(refused.status).toBe(409);
    expect((await ledgerRow(completed.id))?.status).toBe("processed");

    const { queue, sent } = heldQueue();
    const testEnv = adminEnv({ EVENTS_QUEUE: queue });
    const accepted = await adminApi(`/events/${completed.id}/replay?allow_processed=true`, { method: "POST", env: testEnv });
    expect(accepted).toEqual({ status: 200, body: { replayed: 1, id: completed.id, status: "received" } });
    expect(sent).toEqual([completed.id]);
    expect(await ledgerRow(completed.id)).toMatchObject({ status: "received", attempts: 0 });

    const outcome = await runBatch([completed.id], { handlers });
    expect(outcome.acked).toEqual([completed.id]);
    expect(await ledgerRow(completed.id)).toMatchObject({ status: "processed", attempts: 1 });
    expect(granted).toEqual([session.id]);
    const fulfilment = await env.DB.prepare("SELECT status, event_id FROM fulfilments WHERE object_id = ?").bind(session.id).first();
    expect(fulfilment).toEqual({ status: "done", event_id: completed.id });
  });

  it("asks the console's operator to confirm, saying fulfilment is once-only, and replays only with the explicit field", async () => {
    const { completed } = await fulfilledCheckout();
    const detail = await consolePage(`/admin/events/${completed.id}`);
    expect(detail.html).toContain(`href="/admin/events/${completed.id}/replay"`);
    expect(detail.html).not.toContain(`action="/admin/events/${completed.id}/replay"`);
    const confirm = await consolePage(`/admin/events/${completed.id}/replay`);
    expect(confirm.html).toContain("Fulfilment is once-only.");
    expect(confirm.html).toContain('<input type="hidden" name="allow_processed" value="true"/>');

    const cookie = await consoleSession();
    const post = (body: Record<string, string>) =>
      adminCall(`/admin/events/${completed.id}/replay`, {
        method: "POST",
        headers: { cookie, origin: ORIGIN },
        body: new URLSearchParams(body),
      });
    const plain = await post({});
    expect(plain.status).toBe(409);
    expect((await ledgerRow(completed.id))?.status).toBe("processed");
    const { queue } = heldQueue();
    const confirmed = await adminCall(`/admin/events/${completed.id}/replay`, {
      method: "POST",
      headers: { cookie, origin: ORIGIN },
      body: new URLSearchParams({ allow_processed: "true" }),
      env: adminEnv({ EVENTS_QUEUE: queue }),
    });
    expect(confirmed.status).toBe(303);
    expect((await ledgerRow(completed.id))?.status).toBe("received");
  });

  it("sends a failed or dead event's confirmation link back to its own page, where Replay needs no confirmation", async () => {
    const id = await staged("customer.test_confirm_dead", "dead");
    const { status, location } = await consolePage(`/admin/events/${id}/replay`);
    expect(status).toBe(303);
    expect(location).toBe(`/admin/events/${id}`);
  });
});
