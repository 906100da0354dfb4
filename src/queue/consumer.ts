import type Stripe from "stripe";
import { createDb } from "../db/client";
import { claimEvent, failEvent, finishEvent, type ClaimedEvent } from "../db/events";
import type { HandlerContext, Handlers } from "../handlers/registry";
import { errorName, log } from "../log";
import { createStripeApi } from "../stripe/api";
import { retryDelaySeconds } from "./backoff";
import { isEventMessage, type EventMessage } from "./message";

/** Longest `last_error` kept in D1. */
const MAX_ERROR_LENGTH = 1000;

type Outcome = { ok: true; handled: boolean } | { ok: false; error: string; errorName: string };
interface Claimed {
  message: Message<EventMessage>;
  event: ClaimedEvent;
  outcome?: Outcome;
}

/**
 * Processes a batch from the events queue. The D1 bookkeeping is batched: one `db.batch` claims
 * every message's event, handlers run concurrently, one `db.batch` records every outcome; only then
 * is each message acked or retried on its own. Never throws, so one bad event cannot make the queue
 * redeliver the whole batch.
 *
 * @example
 * async queue(batch, env) { await consumeEvents(batch, env, handlers, Date.now); }
 */
export async function consumeEvents(batch: MessageBatch<unknown>, env: Env, handlers: Handlers, now: () => number): Promise<void> {
  const messages = batch.messages.filter((message): message is Message<EventMessage> => {
    if (isEventMessage(message.body)) return true;
    log("error", "queue_message_malformed", { message_id: message.id });
    message.ack(); // Retrying cannot make it readable; the ledger row (if any) is re-driven by the cron.
    return false;
  });
  const [firstMessage] = messages;
  if (!firstMessage) return;

  const db = createDb(env.DB);
  const started = now();
  let claimed: Claimed[];
  try {
    const [first, ...rest] = messages.map((m) => claimEvent(db, m.body.id, started));
    const results = await db.batch([first!, ...rest]);
    claimed = [];
    messages.forEach((message, i) => {
      const event = results[i]?.[0];
      if (event) claimed.push({ message, event });
      else {
        message.ack(); // Already final, dead, claimed by an earlier copy in this batch, or held under a live lease.
        log("info", "event_skipped", { event_id: message.body.id, reason: "not_claimable" });
      }
    });
  } catch (err) {
    retryAll(messages, "event_storage_error", err);
    return;
  }
  if (claimed.length === 0) return;

  const ctx: HandlerContext = { env, db, stripe: createStripeApi(env), handlers, nowMs: started };
  await Promise.all(claimed.map(async (c) => (c.outcome = await runHandlers(c.event.payload, ctx))));

  const finished = now();
  try {
    const [first, ...rest] = claimed.map(({ message, event, outcome }) =>
      outcome!.ok
        ? finishEvent(db, message.body.id, outcome!.handled ? "processed" : "ignored", finished)
        : failEvent(db, message.body.id, outcome!.error, retryDelaySeconds(event.attempts), finished),
    );
    await db.batch([first!, ...rest]);
  } catch (err) {
    // The rows keep their processing lease; once it expires the cron re-drives them.
    retryAll(claimed.map((c) => c.message), "event_storage_error", err);
    return;
  }

  for (const { message, event, outcome } of claimed) {
    const fields = { event_id: message.body.id, type: event.type, attempts: event.attempts, duration_ms: finished - started };
    if (outcome!.ok) {
      message.ack();
      log("info", "event_processed", { ...fields, status: outcome!.handled ? "processed" : "ignored" });
    } else {
      const delaySeconds = retryDelaySeconds(event.attempts);
      message.retry({ delaySeconds });
      log("warn", "event_failed", { ...fields, retry_in_s: delaySeconds, error: outcome!.errorName });
    }
  }
}

function retryAll(messages: readonly Message<EventMessage>[], msg: string, err: unknown): void {
  for (const message of messages) {
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    log("error", msg, { event_id: message.body.id, error: errorName(err) });
  }
}

async function runHandlers(payload: string, ctx: HandlerContext): Promise<Outcome> {
  try {
    const event = JSON.parse(payload) as Stripe.Event;
    const list = ctx.handlers.for(event.type);
    for (const handler of list) await handler(event.data.object, event, ctx);
    return { ok: true, handled: list.length > 0 };
  } catch (err) {
    return { ok: false, error: describeForLedger(err), errorName: errorName(err) };
  }
}

/**
 * The handler's own error text goes to `last_error` in D1, where the operator looks when deciding on
 * a replay; it is never logged or sent in a response.
 */
function describeForLedger(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : `Non-error thrown: ${String(err)}`;
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
