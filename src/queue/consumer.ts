import type Stripe from "stripe";
import { createDb } from "../db/client";
import { claimEvent, failEvent, finishEvent } from "../db/events";
import type { HandlerContext, Handlers } from "../handlers/registry";
import { errorName, log } from "../log";
import { createStripeApi } from "../stripe/api";
import { retryDelaySeconds } from "./backoff";
import { isEventMessage, type EventMessage } from "./message";

/** Longest `last_error` kept in D1. */
const MAX_ERROR_LENGTH = 1000;

/**
 * Processes a batch from the events queue. Each message is acked or retried on its own and this
 * function never throws, so one bad event cannot make the queue redeliver the whole batch.
 *
 * @example
 * async queue(batch, env) { await consumeEvents(batch, env, handlers, Date.now); }
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env, handlers: Handlers, now: () => number): Promise<void> {
  const db = createDb(env.DB);
  const stripe = createStripeApi(env);
  await Promise.all(batch.messages.map((message) => consumeOne(message, { env, db, stripe, handlers, nowMs: 0 }, now)));
}

async function consumeOne(message: Message<unknown>, base: HandlerContext, now: () => number): Promise<void> {
  const { db } = base;
  if (!isEventMessage(message.body)) {
    log("error", "queue_message_malformed", { message_id: message.id });
    message.ack(); // Retrying cannot make it readable; the ledger row (if any) is re-driven by the cron.
    return;
  }
  const { id } = message.body;
  const started = now();
  try {
    const claimed = await claimEvent(db, id, started);
    if (claimed === null) {
      message.ack(); // Already final, dead, or held by another consumer whose lease has not expired.
      log("info", "event_skipped", { event_id: id, reason: "not_claimable" });
      return;
    }
    const outcome = await runHandlers(claimed.payload, { ...base, nowMs: started });
    if (outcome.ok) {
      await finishEvent(db, id, outcome.handled ? "processed" : "ignored", now());
      message.ack();
      log("info", "event_processed", { event_id: id, type: claimed.type, status: outcome.handled ? "processed" : "ignored", attempts: claimed.attempts, duration_ms: now() - started });
      return;
    }
    const delaySeconds = retryDelaySeconds(claimed.attempts);
    await failEvent(db, id, outcome.error, delaySeconds, now());
    message.retry({ delaySeconds });
    log("warn", "event_failed", { event_id: id, type: claimed.type, attempts: claimed.attempts, retry_in_s: delaySeconds, error: outcome.errorName });
  } catch (err) {
    // D1 itself failed: let the queue try again later; the row keeps its redrive deadline.
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    log("error", "event_storage_error", { event_id: id, error: errorName(err) });
  }
}

type HandlerOutcome = { ok: true; handled: boolean } | { ok: false; error: string; errorName: string };

async function runHandlers(payload: string, ctx: HandlerContext): Promise<HandlerOutcome> {
  const event = JSON.parse(payload) as Stripe.Event;
  const list = ctx.handlers.for(event.type);
  try {
    for (const handler of list) await handler(event.data.object, event, ctx);
  } catch (err) {
    return { ok: false, error: describeForLedger(err), errorName: errorName(err) };
  }
  return { ok: true, handled: list.length > 0 };
}

/**
 * The handler's own error text goes to `last_error` in D1, where the operator looks when deciding on
 * a replay; it is never logged or sent in a response.
 */
function describeForLedger(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : `Non-error thrown: ${String(err)}`;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
