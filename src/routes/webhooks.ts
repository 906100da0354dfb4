import { Hono } from "hono";
import { readConfig } from "../config";
import { createDb } from "../db/client";
import { recordEvent } from "../db/events";
import { ApiError } from "../errors";
import { limitBody } from "../http/read-body";
import { errorName, log } from "../log";
import { dispatch } from "../queue/enqueue";
import { verifyDelivery } from "../stripe/verify";
import type { AppEnv } from "../app";

/** The answer Stripe gets for an accepted delivery, new or duplicate. */
export interface Receipt {
  received: true;
  id: string;
  duplicate: boolean;
}

/**
 * `POST /webhooks/stripe`: verify, record, acknowledge, then send the id to the queue in `waitUntil`.
 * One D1 statement (the insert) per delivery; the cron re-sends anything whose send was lost.
 */
export const webhookRoutes = new Hono<AppEnv>()
  .post("/stripe", limitBody, async (c) => {
    const started = c.var.now();
    let eventId: string | undefined;
    let eventType: string | undefined;
    try {
      const payload = await c.req.text();
      const config = readConfig(c.env);
      if (!config.ok) throw config.error;

      const { event, secretIndex } = await verifyDelivery({
        payload,
        header: c.req.header("stripe-signature") ?? null,
        secrets: config.config.webhookSecrets,
        toleranceSeconds: config.config.toleranceSeconds,
        nowMs: started,
      });
      eventId = event.id;
      eventType = event.type;

      const db = createDb(c.env.DB);
      let isNew: boolean;
      try {
        isNew = await recordEvent(db, event, { receivedAt: started, payload, source: "webhook", secretIndex });
      } catch (err) {
        log("error", "ledger_write_failed", { event_id: event.id, error: errorName(err) });
        throw new ApiError(
          "storage_unavailable",
          "The event could not be recorded in D1, so it was not accepted. Stripe retries the delivery; check the D1 binding `DB` and that migrations are applied (see /health).",
        );
      }

      // The queue send is the only work left after the answer; no D1 write follows it.
      if (isNew) c.executionCtx.waitUntil(dispatch(c.env.EVENTS_QUEUE, db, [event.id], started));
      logDelivery(eventId, eventType, isNew ? "accepted" : "duplicate", started, c.var.now());
      return c.json({ received: true, id: event.id, duplicate: !isNew } satisfies Receipt);
    } catch (err) {
      logDelivery(eventId, eventType, err instanceof ApiError ? err.code : "internal_error", started, c.var.now());
      throw err;
    }
  })
  .all("/stripe", () => {
    throw new ApiError("method_not_allowed", "Stripe delivers webhooks with POST. This route accepts nothing else.");
  });

function logDelivery(eventId: string | undefined, type: string | undefined, outcome: string, started: number, ended: number): void {
  log(outcome === "accepted" || outcome === "duplicate" ? "info" : "warn", "delivery", {
    event_id: eventId ?? null,
    type: type ?? null,
    outcome,
    duration_ms: ended - started,
  });
}
