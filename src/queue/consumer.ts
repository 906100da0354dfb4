import type { BatchItem } from "drizzle-orm/batch";
import type Stripe from "stripe";
import { readConfig, type StripeApiConfig } from "../config";
import { batchAll, createDb, type Database } from "../db/client";
import { markFormatSeen } from "../db/job-state";
import { type ClaimedEvent, claimEvents, failEvent, finishEvents, parkEvent } from "../db/ledger/consumer";
import type { HandlerContext, Handlers, ThinHandlerContext } from "../handlers/registry";
import type { EventFormat } from "../ledger/event";
import { errorName, log } from "../log";
import { createStripeApi } from "../stripe/api";
import { clientForThin, noApiClientReason, rehydrateThin } from "../stripe/thin";
import { retryDelaySeconds } from "./backoff";
import { type EventMessage, isEventMessage } from "./message";

/** Longest `last_error` kept in D1. */
const MAX_ERROR_LENGTH = 1000;

type Write = BatchItem<"sqlite">;
/**
 * What one attempt came to. A failure with `park` cannot succeed on retry (a thin event with no API
 * client): the event is parked and its message acked instead of retried.
 */
type Outcome = { ok: true; handled: boolean; writes: Write[] } | { ok: false; error: string; errorName: string; park?: boolean };
interface Claimed {
  message: Message<EventMessage>;
  event: ClaimedEvent;
  outcome?: Outcome;
}

/**
 * Processes a batch from the events queue in two D1 round trips besides what handlers read: one
 * `db.batch` claims every message's event; handlers run concurrently, queueing their writes with
 * `ctx.write`; one `db.batch` (one transaction) commits every event's writes together with its
 * outcome. Only then is each message acked or retried on its own. If that transaction fails, each
 * event is committed on its own, so one bad write fails one event, not the batch. Never throws.
 * Thin events run their `onThin` handlers with the notification re-read from the ledger; one with no
 * handler is `ignored` without an API call, one that needs the API without STRIPE_SECRET_KEY is parked.
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
  if (messages.length === 0) return;

  const db = createDb(env.DB);
  const started = now();
  const claimed: Claimed[] = [];
  let skipped = 0;
  try {
    const claims = await batchAll(db, claimEvents(db, [...new Set(messages.map((m) => m.body.id))], started));
    const rows = new Map(claims.flat().map((row) => [row.id, row]));
    for (const message of messages) {
      const event = rows.get(message.body.id);
      // A second copy of one event in this batch finds its row already taken by the first.
      rows.delete(message.body.id);
      if (event) claimed.push({ message, event });
      else {
        message.ack(); // Already final, dead, claimed by another copy, or held under a live lease.
        skipped++;
      }
    }
  } catch (err) {
    retryAll(messages, "event_storage_error", err);
    return;
  }
  if (claimed.length === 0) {
    log("info", "batch_processed", {
      messages: messages.length,
      processed: 0,
      ignored: 0,
      failed: 0,
      parked: 0,
      skipped,
      duration_ms: now() - started,
    });
    return;
  }

  const { stripeApi } = readConfig(env);
  const stripe = createStripeApi(stripeApi);
  await Promise.all(
    claimed.map(async (c) => (c.outcome = await runHandlers(c.event, { env, db, stripe, handlers, nowMs: started }, stripeApi))),
  );

  const finished = now();
  try {
    await batchAll(db, sharedWrites(db, claimed, finished));
  } catch {
    // Something in the shared transaction failed: commit event by event to find which.
    await Promise.all(claimed.map((c) => commitAlone(db, c, finished)));
  }

  // One line per batch, and one per failed event: each event's own story is in the ledger, and a
  // line per success would multiply the log volume by the batch size.
  const counts = { processed: 0, ignored: 0, failed: 0, parked: 0 };
  for (const { message, event, outcome } of claimed) {
    if (outcome!.ok) {
      message.ack();
      counts[outcome!.handled ? "processed" : "ignored"]++;
    } else if (outcome!.park) {
      message.ack(); // Retrying cannot help; the row waits, `failed` and parked, for a replay.
      counts.parked++;
      log("warn", "event_parked", { event_id: event.id, type: event.type, attempts: event.attempts, reason: outcome!.errorName });
    } else {
      const delaySeconds = retryDelaySeconds(event.attempts);
      message.retry({ delaySeconds });
      counts.failed++;
      log("warn", "event_failed", {
        event_id: event.id,
        type: event.type,
        attempts: event.attempts,
        retry_in_s: delaySeconds,
        error: outcome!.errorName,
      });
    }
  }
  log("info", "batch_processed", { messages: messages.length, ...counts, skipped, duration_ms: finished - started });
}

/**
 * Every event's handler writes and outcome, with one finishing statement per final status, and a
 * note of each delivery format seen (for the recovery; a no-op once noted).
 */
function sharedWrites(db: Database, claimed: readonly Claimed[], nowMs: number): Write[] {
  const done = { processed: [] as string[], ignored: [] as string[] };
  const firstCreated = new Map<EventFormat, number>();
  for (const { event } of claimed) firstCreated.set(event.format, Math.min(event.created, firstCreated.get(event.format) ?? Infinity));
  const writes: Write[] = [...firstCreated].map(([format, created]) => markFormatSeen(db, format, created, nowMs));
  for (const c of claimed) {
    if (c.outcome!.ok) {
      writes.push(...c.outcome!.writes);
      done[c.outcome!.handled ? "processed" : "ignored"].push(c.event.id);
    } else writes.push(...outcomeWrites(db, c, nowMs));
  }
  return [...writes, ...finishEvents(db, done.processed, "processed", nowMs), ...finishEvents(db, done.ignored, "ignored", nowMs)];
}

/** One event's handler writes and its outcome, to commit in one transaction. */
function outcomeWrites(db: Database, { event, outcome }: Claimed, nowMs: number): Write[] {
  if (!outcome!.ok && outcome!.park) return [parkEvent(db, event.id, outcome!.error)];
  if (!outcome!.ok) return [failEvent(db, event.id, outcome!.error, retryDelaySeconds(event.attempts), nowMs)];
  return [...outcome!.writes, ...finishEvents(db, [event.id], outcome!.handled ? "processed" : "ignored", nowMs)];
}

/**
 * Commits one event's writes and outcome in its own transaction. If the handler writes are what
 * fails, the event is recorded `failed` with the error and retried; if D1 refuses even that, the
 * message is retried and the row keeps its lease until the cron takes it over.
 */
async function commitAlone(db: Database, c: Claimed, nowMs: number): Promise<void> {
  try {
    await batchAll(db, outcomeWrites(db, c, nowMs));
    return;
  } catch (err) {
    c.outcome = { ok: false, error: describeForLedger(err, "Writing the handlers' changes failed: "), errorName: errorName(err) };
  }
  try {
    await outcomeWrites(db, c, nowMs)[0]!;
  } catch (err) {
    log("error", "event_storage_error", { event_id: c.event.id, error: errorName(err) });
  }
}

function retryAll(messages: readonly Message<EventMessage>[], msg: string, err: unknown): void {
  for (const message of messages) {
    message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    log("error", msg, { event_id: message.body.id, error: errorName(err) });
  }
}

async function runHandlers(event: ClaimedEvent, base: Omit<HandlerContext, "write">, stripeApi: StripeApiConfig): Promise<Outcome> {
  if (event.format === "thin") return runThinHandlers(event, base, stripeApi);
  const writes: Write[] = [];
  const ctx: HandlerContext = { ...base, write: (query) => void writes.push(query) };
  try {
    const parsed = JSON.parse(event.payload) as Stripe.Event;
    const list = ctx.handlers.for(parsed.type);
    for (const handler of list) await handler(parsed.data.object, parsed, ctx);
    return { ok: true, handled: list.length > 0, writes };
  } catch (err) {
    return { ok: false, error: describeForLedger(err), errorName: errorName(err) };
  }
}

/**
 * A thin event: no handler means `ignored`, decided before anything needs the API (Stripe's
 * `v2.core.event_destination.ping` ends here, key or not). Otherwise the notification is re-read from
 * the stored body with the API client, whose fetches handlers share; without a client it is parked.
 */
async function runThinHandlers(event: ClaimedEvent, base: Omit<HandlerContext, "write">, stripeApi: StripeApiConfig): Promise<Outcome> {
  const list = base.handlers.forThin(event.type);
  if (list.length === 0) return { ok: true, handled: false, writes: [] };
  if (!base.stripe) return { ok: false, park: true, error: noApiClientReason(stripeApi), errorName: "no_stripe_api_client" };
  const writes: Write[] = [];
  try {
    const notification = rehydrateThin(base.stripe, event.payload);
    const ctx: ThinHandlerContext = {
      ...base,
      stripe: clientForThin(base.stripe, notification),
      write: (query) => void writes.push(query),
    };
    for (const handler of list) await handler(notification, ctx);
    return { ok: true, handled: true, writes };
  } catch (err) {
    return { ok: false, error: describeForLedger(err), errorName: errorName(err) };
  }
}

/**
 * The handler's own error text goes to `last_error` in D1, where the operator looks when deciding on
 * a replay; it is never logged or sent in a response.
 */
function describeForLedger(err: unknown, prefix = ""): string {
  const text = prefix + (err instanceof Error ? `${errorName(err)}: ${err.message}` : `Non-error thrown: ${String(err)}`);
  return text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text;
}
