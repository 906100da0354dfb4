import { Handlers } from "../../src/handlers/registry";

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
