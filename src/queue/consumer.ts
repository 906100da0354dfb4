import type { BatchItem } from "drizzle-orm/batch";
import { batchAll, type Database } from "../db/client";
import { markFormatSeen } from "../db/job-state";
import { claimEvents, deferEvent, type Finished, failEvent, finishEvents, finishedTwins, parkEvent } from "../db/ledger/consumer";
import { gzipPayload } from "../db/ledger/payload";
import { takeDue } from "../db/ledger/upkeep";
import type { Deps } from "../deps";
import { type ClaimedForRun, failure, type Outcome, runEvent } from "../handlers/run";
import type { DeliveryFormat, EventMessage } from "../ledger/event";
import { LEDGER_TIMING } from "../ledger/timing";
import { errorName, log } from "../log";
import { retryDelaySeconds } from "./backoff";
import { dispatch } from "./enqueue";
import { readableMessages } from "./message";

type Write = BatchItem<"sqlite">;

/** At most this many due events sent right after a commit; the cron takes any more. */
const LIFECYCLE_SEND_LIMIT = 100;

/** A message whose event this consumer claimed, and what running its handlers came to. */
interface Attempt {
  message: Message<EventMessage>;
  event: ClaimedForRun;
  outcome: Outcome;
}

/**
 * Processes a batch from the events queue: claim → run → commit → ack. One `db.batch` claims every
 * message's event; each event's handlers run (src/handlers/run.ts), concurrently, queueing their
 * writes; one `db.batch` (one transaction) commits every event's writes together with its outcome,
 * and only then is each message acked or retried on its own. If that transaction fails, each event
 * is committed on its own, so one bad write fails one event, not the batch. A deferred event's
 * message is acked and sent again with a delay, so the wait spends no attempt. Never throws.
 *
 * @example
 * async queue(batch, env) { await consumeEvents(batch, createDeps(env, { handlers, now: Date.now })); }
 */
export async function consumeEvents(batch: MessageBatch<unknown>, deps: Deps): Promise<void> {
  const messages = readableMessages(batch);
  if (messages.length === 0) return;
  const started = deps.now();
  const claims = await claim(deps.db, messages, started);
  if (claims === null) return;
  const attempts: Attempt[] = await Promise.all(
    claims.claimed.map(async ({ message, event }) => ({ message, event, outcome: await runEvent(event, deps, started) })),
  );
  const finished = deps.now();
  const committed = attempts.length === 0 ? attempts : await commit(deps.db, attempts, finished);
  const counts = answer(committed);
  await sendDeferred(deps, committed);
  await sendLifecycle(deps, committed);
  log("info", "batch_processed", { messages: messages.length, ...counts, skipped: claims.skipped, duration_ms: finished - started });
}

/**
 * Claims every message's event in one round trip, which also finds the events whose twin (a thin
 * event's snapshot event, or the reverse) is already final, or claimed in this same batch: those are
 * ignored rather than processed twice. A message whose event is already final, dead, claimed by
 * another copy in this batch, or held under a live lease is acked and skipped. When D1 fails, every
 * message is retried and null is returned.
 */
async function claim(
  db: Database,
  messages: readonly Message<EventMessage>[],
  nowMs: number,
): Promise<{ claimed: { message: Message<EventMessage>; event: ClaimedForRun }[]; skipped: number } | null> {
  let rows: Map<string, ClaimedForRun>;
  try {
    const ids = [...new Set(messages.map((m) => m.body.id))];
    const claims = claimEvents(db, ids, nowMs);
    const results = await batchAll(db, [...claims.statements, ...finishedTwins(db, ids)]);
    const claimedRows = await claims.read(results);
    const twinDone = new Set((results.slice(claims.statements.length).flat() as unknown as { id: string }[]).map((r) => r.id));
    // A thin event and its snapshot twin in one batch: the snapshot event (which carries its data) is processed.
    const inBatch = new Set(claimedRows.map((r) => r.id));
    rows = new Map(
      claimedRows.map((row) => [row.id, { ...row, twinDone: twinDone.has(row.id) || (row.twinOf !== null && inBatch.has(row.twinOf)) }]),
    );
  } catch (err) {
    for (const message of messages) {
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      log("error", "event_storage_error", { event_id: message.body.id, error: errorName(err) });
    }
    return null;
  }
  const claimed: { message: Message<EventMessage>; event: ClaimedForRun }[] = [];
  let skipped = 0;
  for (const message of messages) {
    const event = rows.get(message.body.id);
    // A second copy of one event in this batch finds its row already taken by the first.
    rows.delete(message.body.id);
    if (event) claimed.push({ message, event });
    else {
      message.ack();
      skipped++;
    }
  }
  return { claimed, skipped };
}

/**
 * Commits every attempt's writes and outcome in one transaction, with a note of each delivery format
 * seen (for the recovery; a no-op once noted). If that transaction fails, commits each attempt on its
 * own to find the one at fault; returns the attempts with the outcome each really got.
 */
async function commit(db: Database, attempts: readonly Attempt[], nowMs: number): Promise<Attempt[]> {
  const gzip = await compressFinished(attempts);
  const firstCreated = new Map<DeliveryFormat, number>();
  for (const { event } of attempts) {
    if (event.format !== "lifecycle") firstCreated.set(event.format, Math.min(event.created, firstCreated.get(event.format) ?? Infinity));
  }
  // Events finishing alike (status and note) share one statement per 90 ids.
  const done = new Map<string, { status: "processed" | "ignored"; note: string | null; events: Finished[] }>();
  const writes: Write[] = [...firstCreated].map(([format, created]) => markFormatSeen(db, format, created, nowMs));
  for (const a of attempts) {
    if (a.outcome.kind === "done") {
      writes.push(...a.outcome.writes);
      const note = a.outcome.note ?? null;
      const key = `${a.outcome.status} ${note ?? ""}`;
      if (!done.has(key)) done.set(key, { status: a.outcome.status, note, events: [] });
      done.get(key)!.events.push({ id: a.event.id, gzip: gzip.get(a.event.id) ?? null });
    } else writes.push(...outcomeWrites(db, a, nowMs, gzip));
  }
  const finishes = [...done.values()].flatMap((d) => finishEvents(db, d.events, d.status, nowMs, d.note));
  try {
    await batchAll(db, [...writes, ...finishes]);
    return [...attempts];
  } catch {
    // Something in the shared transaction failed: commit event by event to find which.
    return Promise.all(attempts.map((a) => commitAlone(db, a, nowMs, gzip)));
  }
}

/**
 * The gzip bytes of each finished event's payload, which its finish statement stores instead of the
 * text. An event whose payload cannot be compressed (never seen; the runtime's zlib) keeps its text.
 */
async function compressFinished(attempts: readonly Attempt[]): Promise<Map<string, Uint8Array>> {
  const done = attempts.filter((a) => a.outcome.kind === "done");
  const compressed = await Promise.all(done.map((a) => gzipPayload(a.event.payload).catch(() => null)));
  return new Map(done.flatMap((a, i) => (compressed[i] ? [[a.event.id, compressed[i]] as const] : [])));
}

/** One attempt's writes and outcome, to commit in one transaction. */
function outcomeWrites(db: Database, { event, outcome }: Attempt, nowMs: number, gzip: ReadonlyMap<string, Uint8Array>): Write[] {
  switch (outcome.kind) {
    case "done": {
      const finished = { id: event.id, gzip: gzip.get(event.id) ?? null };
      return [...outcome.writes, ...finishEvents(db, [finished], outcome.status, nowMs, outcome.note ?? null)];
    }
    case "parked":
      return parkEvent(db, event.id, outcome.error, nowMs);
    case "failed":
      return failEvent(db, event.id, outcome.error, retryDelaySeconds(event.attempts), nowMs);
    case "deferred":
      return [deferEvent(db, event.id, nowMs + outcome.delaySeconds * 1000 + LEDGER_TIMING.graceMs)];
  }
}

/**
 * Commits one attempt's writes and outcome in its own transaction. If the handler writes are what
 * fails, the event is recorded `failed` with the error and retried; if D1 refuses even that, the
 * message is retried and the row keeps its lease until the cron takes it over.
 */
async function commitAlone(db: Database, attempt: Attempt, nowMs: number, gzip: ReadonlyMap<string, Uint8Array>): Promise<Attempt> {
  try {
    await batchAll(db, outcomeWrites(db, attempt, nowMs, gzip));
    return attempt;
  } catch (err) {
    const failed: Attempt = { ...attempt, outcome: failure(err, "Writing the handlers' changes failed: ") };
    await batchAll(db, outcomeWrites(db, failed, nowMs, gzip)).catch((storageErr: unknown) =>
      log("error", "event_storage_error", { event_id: attempt.event.id, error: errorName(storageErr) }),
    );
    return failed;
  }
}

/**
 * Acks or retries each message by its committed outcome, with one log line per event that did not
 * succeed (each event's own story is in the ledger; a line per success would multiply the log volume
 * by the batch size). Returns the counts for the batch's line.
 */
function answer(attempts: readonly Attempt[]): Record<"processed" | "ignored" | "failed" | "parked" | "deferred", number> {
  const counts = { processed: 0, ignored: 0, failed: 0, parked: 0, deferred: 0 };
  for (const { message, event, outcome } of attempts) {
    switch (outcome.kind) {
      case "done":
        message.ack();
        counts[outcome.status]++;
        break;
      case "parked":
        message.ack(); // Retrying cannot help; the row waits, `failed` and parked, for a replay.
        counts.parked++;
        log("warn", "event_parked", { event_id: event.id, type: event.type, attempts: event.attempts, reason: outcome.errorName });
        break;
      case "deferred":
        message.ack(); // Sent again with a delay (sendDeferred): the wait spends no attempt.
        counts.deferred++;
        break;
      case "failed": {
        const delaySeconds = retryDelaySeconds(event.attempts);
        message.retry({ delaySeconds });
        counts.failed++;
        log("warn", "event_failed", {
          event_id: event.id,
          type: event.type,
          attempts: event.attempts,
          retry_in_s: delaySeconds,
          error: outcome.errorName,
        });
        break;
      }
    }
  }
  return counts;
}

/**
 * Sends the deferred events again, each group with its delay. A send that fails leaves the row due for
 * the cron's re-drive (its `redrive_at` was set with the deferral), so nothing waits for ever.
 */
async function sendDeferred(deps: Deps, attempts: readonly Attempt[]): Promise<void> {
  const byDelay = new Map<number, string[]>();
  for (const { event, outcome } of attempts) {
    if (outcome.kind !== "deferred") continue;
    byDelay.set(outcome.delaySeconds, [...(byDelay.get(outcome.delaySeconds) ?? []), event.id]);
  }
  for (const [delaySeconds, ids] of byDelay) {
    log("warn", "events_deferred", { count: ids.length, delay_s: delaySeconds });
    await dispatch(deps, ids, delaySeconds);
  }
}

/**
 * After a commit that recorded lifecycle events (transitions the billing handlers noticed), sends them
 * to the queue at once: they were recorded due for the re-drive, which `takeDue` takes (and
 * reschedules, so a lost send is re-sent by the cron). Only when an attempt queued one.
 */
async function sendLifecycle(deps: Deps, attempts: readonly Attempt[]): Promise<void> {
  if (!attempts.some((a) => a.outcome.kind === "done" && a.outcome.emitted)) return;
  try {
    const due = await takeDue(deps.db, deps.now(), LIFECYCLE_SEND_LIMIT);
    if (due.length > 0) await dispatch(deps, due);
  } catch (err) {
    // The cron's re-drive sends them within a minute.
    log("warn", "lifecycle_send_failed", { error: errorName(err) });
  }
}
