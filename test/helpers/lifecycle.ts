import { env } from "cloudflare:workers";
import { billingHandlers } from "../../src/billing/handlers";
import { LIFECYCLE_KINDS, type LifecycleChange } from "../../src/handlers/hooks";
import type { Handlers } from "../../src/handlers/registry";
import { envWith, heldQueue } from "./faults";
import { seedEvent } from "./ledger";
import { runBatch } from "./worker";

// Lifecycle hooks fire from synthetic ledger events that the consumer records in the transaction of a
// billing change and then sends to the queue. In a test the queue must not deliver them to the
// deployed Worker (its handlers have no hooks: it would end them `ignored`), so the test runs them
// itself, with the handlers whose hooks it counts.

/** The built-in billing handlers with a hook on every lifecycle kind, recording each change it gets. */
export function recordingLifecycle(handlers: Handlers = billingHandlers()) {
  const fired: LifecycleChange[] = [];
  for (const kind of LIFECYCLE_KINDS) handlers.lifecycle(kind, (change) => void fired.push(change));
  return { handlers, fired };
}

/** `kind objectId` of each change, in firing order: what a test compares. */
export function firings(fired: readonly LifecycleChange[]): string[] {
  return fired.map((c) => `${c.kind} ${c.objectId}`);
}

/**
 * The test environment (with `overrides`) whose queue holds every message past the end of the run,
 * so only `processWithLifecycle` runs the lifecycle events.
 */
export function lifecycleEnv(overrides: Partial<Env> = {}): Env {
  return envWith({ EVENTS_QUEUE: heldQueue().queue, ...overrides });
}

/** The lifecycle events recorded and not yet run, oldest first. */
export async function pendingLifecycleEvents(): Promise<string[]> {
  const { results } = await env.DB.prepare("SELECT id FROM stripe_events WHERE format = 'lifecycle' AND status = 'received' ORDER BY seq")
    .bind()
    .all<{ id: string }>();
  return results.map((r) => r.id);
}

/**
 * Records each event in the ledger and runs it through the queue consumer, in the order given (as
 * `processEvents` does), and after each one runs the lifecycle events its processing recorded, with
 * the same handlers, as the queue would deliver them. Returns the ids of messages the consumer retried.
 */
export async function processWithLifecycle(
  events: readonly (Record<string, unknown> & { id: string })[],
  handlers: Handlers,
  testEnv: Env = lifecycleEnv(),
): Promise<string[]> {
  const retried: string[] = [];
  for (const event of events) {
    await seedEvent(event);
    const outcome = await runBatch([event.id], { handlers, env: testEnv });
    retried.push(...outcome.retried.map((r) => r.id));
    // One at a time, in the order recorded, so hooks fire in a fixed order a test can compare.
    for (const id of await pendingLifecycleEvents()) {
      const lifecycle = await runBatch([id], { handlers, env: testEnv });
      retried.push(...lifecycle.retried.map((r) => r.id));
    }
  }
  return retried;
}
