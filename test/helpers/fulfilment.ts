import { Handlers } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";
import { buildEvent, OBJECTS } from "./events";
import { envWith, heldQueue } from "./faults";

export interface Fulfilment {
  handlers: Handlers;
  /** Event ids whose handler completed, one entry per completed run. */
  done: string[];
  /** Whose runs throw instead of completing, like a fulfilment service that is down: some ids, all, or none. */
  failing: Set<string> | "all" | "none";
}

/**
 * An `invoice.paid` handler, registered through the public `Handlers` API, whose only side effect
 * is recording the event id when it completes: counting those entries counts fulfilments.
 */
export function recordingFulfilment(): Fulfilment {
  const state: Fulfilment = { handlers: new Handlers(), done: [], failing: "none" };
  state.handlers.on("invoice.paid", (_invoice, event) => {
    if (state.failing === "all" || (state.failing instanceof Set && state.failing.has(event.id))) {
      throw new Error("fulfilment service unavailable");
    }
    state.done.push(event.id);
  });
  return state;
}

/** How many times each id was fulfilled. */
export function fulfilmentCounts(done: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of done) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}

/**
 * The reliability tests' usual start: a Worker whose only handler records fulfilments, a held queue
 * (sends are counted, and never reach the deployed Worker's consumer), `healthy`, the env that uses
 * it, and a fresh `invoice.paid` event to deliver.
 *
 * @example
 * const { fulfilment, worker, sent, healthy, event, id } = heldInvoice();
 * await deliver(event, { worker, env: healthy });
 */
export function heldInvoice() {
  const fulfilment = recordingFulfilment();
  const worker = createWorker({ handlers: fulfilment.handlers });
  const { queue, sent } = heldQueue();
  const event = buildEvent("invoice.paid", OBJECTS.invoice);
  return { fulfilment, worker, queue, sent, healthy: envWith({ EVENTS_QUEUE: queue }), event, id: event.id };
}
