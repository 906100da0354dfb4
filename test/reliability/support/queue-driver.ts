import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import { Handlers } from "../../../src/handlers/registry";
import { createWorker } from "../../../src/worker";

/** A Worker built by `createWorker`, with the handlers and clock a test chose. */
export type TestWorker = ReturnType<typeof createWorker>;

/** The queue names in wrangler.toml; the Worker tells the dead-letter queue apart by its `-dlq` suffix. */
export const EVENTS_QUEUE = "stripe-events";
export const DEAD_LETTER_QUEUE = "stripe-events-dlq";

/** What the consumer did with each message of a batch, by event id. */
export interface BatchOutcome {
  acked: string[];
  retried: { id: string; delaySeconds: number | undefined }[];
}

let nextMessage = 0;

/**
 * Hands one batch of event ids to the Worker's queue handler, as Cloudflare Queues would after
 * `attempts - 1` earlier deliveries, and reports which messages it acked and which it retried
 * (with the delay it asked for; getQueueResult does not report delays, so retry() is observed).
 */
export async function consumeBatch(worker: TestWorker, queue: string, ids: readonly string[], attempts = 1, testEnv: Env = env): Promise<BatchOutcome> {
  const messages = ids.map((id) => ({ id: `reliability-msg-${++nextMessage}`, timestamp: new Date(), attempts, body: { id } }));
  const batch = createMessageBatch(queue, messages);
  const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const ctx = createExecutionContext();
  await worker.queue(batch, testEnv, ctx);
  const result = await getQueueResult(batch, ctx);
  const eventId = (msgId: string) => ids[messages.findIndex((m) => m.id === msgId)]!;
  return {
    acked: result.explicitAcks.map(eventId),
    retried: result.retryMessages.map(({ msgId }) => {
      const index = messages.findIndex((m) => m.id === msgId);
      return { id: eventId(msgId), delaySeconds: retries[index]!.mock.calls[0]?.[0]?.delaySeconds };
    }),
  };
}

/** Runs the cron trigger of a Worker whose clock reads `nowMs`, and waits for its re-drive to finish. */
export async function runCron(nowMs: number, testEnv: Env = env): Promise<void> {
  const worker = createWorker({ handlers: new Handlers(), now: () => nowMs });
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ scheduledTime: nowMs, cron: "* * * * *" }), testEnv, ctx);
  await waitOnExecutionContext(ctx);
}
