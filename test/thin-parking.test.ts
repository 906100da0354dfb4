import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { billingHandlers } from "../src/billing/handlers";
import { createDb } from "../src/db/client";
import { PARKED } from "../src/db/ledger/attention";
import { redriveDueEvents } from "../src/maintenance/redrive";
import { createWorker } from "../src/worker";
import { adminApi, adminEnv } from "./helpers/admin";
import { billingRow, stripeObject } from "./helpers/billing";
import { deliverThin } from "./helpers/deliver";
import { uid } from "./helpers/events";
import { countingQueue, envWith, heldQueue } from "./helpers/faults";
import { clearLedger, ledgerRow, seedEvent } from "./helpers/ledger";
import { stubStripeApi } from "./helpers/stripe-api";
import { apiObject, relatedTo, thinEvent } from "./helpers/thin";
import { getHealth, runBatch, testDeps } from "./helpers/worker";

// The cron acts on every row, so each scenario starts from an empty ledger.
beforeEach(() => clearLedger());

const KEY = "rk_test_thin_parking";

describe("a thin event without STRIPE_SECRET_KEY", () => {
  it(
    "is recorded and acknowledged, parked (not retried, not re-driven), flagged by /health, " +
      "and processed after the key is set and it is replayed",
    async () => {
      const sub = stripeObject("subscription", { id: uid("sub_parked"), status: "active" });
      const n = thinEvent("v1.customer.subscription.updated", relatedTo(sub));
      const noKey = env; // the test bindings set STRIPE_SECRET_KEY to ""
      const seen = stubStripeApi(apiObject(sub));

      // Delivered and acknowledged: nothing is lost.
      expect((await deliverThin(n, { env: noKey })).status).toBe(200);
      // The Worker's own queue consumer (the deployed handlers, no key) takes it and parks it.
      await vi.waitFor(async () => expect((await ledgerRow(n.id))?.status).toBe("failed"), { timeout: 10_000, interval: 100 });
      const parked = await ledgerRow(n.id);
      expect(parked).toMatchObject({
        status: "failed",
        redrive_at: null,
        lease_until: null,
        attempts: 1,
        last_error: expect.stringMatching(/^STRIPE_SECRET_KEY is not set/),
      });
      expect(seen).toEqual([]);

      // The queue acked it: a second consumer pass of a stray copy finds nothing to retry in a loop.
      const consumer = createWorker({ handlers: billingHandlers() });
      const again = await runBatch([n.id], { worker: consumer, env: noKey });
      expect(again).toEqual({ acked: [n.id], retried: [], outcome: "ok" });
      expect(await ledgerRow(n.id)).toMatchObject({ status: "failed", redrive_at: null, attempts: 2 });

      // The cron never sends it again, however late.
      const { queue, sent } = countingQueue();
      await redriveDueEvents(testDeps({ env: envWith({ EVENTS_QUEUE: queue }), now: Date.now() + 7 * 86_400_000 }));
      expect(sent).toEqual([]);

      // /health says so, naming the key, and stays 200.
      const health = await getHealth(noKey);
      expect(health.body.ok).toBe(true);
      expect(health.body.checks.stripe_api).toEqual({
        ok: true,
        key_configured: false,
        parked_thin_events: 1,
        warnings: [expect.stringMatching(/1 thin event\(s\) .*STRIPE_SECRET_KEY is not set/)],
      });

      // With the key set, /health asks for the replay; the replay processes it.
      const withKey = envWith({ STRIPE_SECRET_KEY: KEY });
      expect((await getHealth(withKey)).body.checks.stripe_api.warnings).toEqual([
        expect.stringMatching(/wait for a replay: POST \/admin\/api\/replay\?status=failed/),
      ]);
      const held = heldQueue();
      const replayed = await adminApi(`/events/${n.id}/replay`, {
        method: "POST",
        env: adminEnv({ STRIPE_SECRET_KEY: KEY, EVENTS_QUEUE: held.queue }),
      });
      expect(replayed.status).toBe(200);
      expect(held.sent).toEqual([n.id]);
      expect(await runBatch(held.sent, { worker: consumer, env: withKey })).toEqual({ acked: [n.id], retried: [], outcome: "ok" });

      expect(await ledgerRow(n.id)).toMatchObject({ status: "processed", last_error: null });
      expect(await billingRow("subscriptions", sub.id)).toMatchObject({ status: "active" });
      expect(seen.map((r) => r.headers.get("authorization"))).toEqual([`Bearer ${KEY}`]);
      expect((await getHealth(withKey)).body.checks.stripe_api).toEqual({ ok: true, key_configured: true });
    },
  );

  it("is parked with a last_error naming STRIPE_API_BASE when the key is set but the base is refused", async () => {
    const n = thinEvent("v1.customer.updated", { id: "cus_parked_base", type: "customer", url: "/v1/customers/cus_parked_base" });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const refused = envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: "http://stripe-mock.internal" });
    await seedEvent(n);
    expect(await runBatch([n.id], { handlers: billingHandlers(), env: refused })).toEqual({ acked: [n.id], retried: [], outcome: "ok" });
    const row = await ledgerRow(n.id);
    expect(row).toMatchObject({ status: "failed", redrive_at: null, last_error: expect.stringMatching(/STRIPE_API_BASE uses plain http/) });
    expect(String(row!.last_error)).not.toContain("stripe-mock.internal");
  });

  it("does not park a thin type no handler wants: it ends ignored", async () => {
    const n = thinEvent("v1.billing.meter.no_meter_found", null);
    await seedEvent(n);
    expect(await runBatch([n.id], { handlers: billingHandlers() })).toEqual({ acked: [n.id], retried: [], outcome: "ok" });
    expect(await ledgerRow(n.id)).toMatchObject({ status: "ignored" });
    expect((await getHealth(env)).body.checks.stripe_api).toEqual({ ok: true, key_configured: false });
  });

  it("is found by /health through the attention index, never a scan of the ledger", async () => {
    const db = createDb(env.DB);
    const plan = await db.all<{ detail: string }>(
      sql`EXPLAIN QUERY PLAN SELECT count(*) FROM stripe_events WHERE ${PARKED} AND format = 'thin'`,
    );
    expect(plan.map((p) => p.detail).join("\n")).toMatch(/USING INDEX stripe_events_attention_idx/);
    expect(plan.map((p) => p.detail).join("\n")).not.toMatch(/SCAN stripe_events(?! USING)/);
  });
});
