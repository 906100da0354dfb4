import type { BatchItem } from "drizzle-orm/batch";
import type Stripe from "stripe";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { ClaimedEvent } from "../db/ledger/consumer";
import { errorName } from "../log";
import { noApiClientReason } from "../stripe/api";
import { clientForThin, rehydrateThin } from "../stripe/thin";
import type { FulfilmentKind } from "./hooks";
import { once } from "./once";
import type { HandlerContext, Handlers } from "./registry";

type Write = BatchItem<"sqlite">;

/**
 * What running one event's handlers came to, for the consumer to commit and answer the queue with:
 * - `done`: `processed` (a handler ran) or `ignored` (none wanted it), with the handlers' queued
 *   writes to commit together with that status;
 * - `failed`: a handler threw; the queue retries it with backoff;
 * - `parked`: no retry can succeed until an operator acts (a thin event with no API client); the
 *   message is acked and the row waits, `failed`, for a replay.
 */
export type Outcome =
  | { kind: "done"; status: "processed" | "ignored"; writes: Write[] }
  | { kind: "failed"; error: string; errorName: string }
  | { kind: "parked"; error: string; errorName: string };

/** What running an event needs: the invocation's dependencies (src/deps.ts), which it is given. */
export interface RunDeps {
  env: Env;
  config: Config;
  db: Database;
  stripe: Stripe | null;
  handlers: Handlers;
}

/** Longest `last_error` kept in D1. */
const MAX_ERROR_LENGTH = 1000;

/**
 * Runs the registered handlers for one claimed event and says what came of it; never throws. A
 * snapshot event's `on` handlers get its `data.object`. A thin event with no `onThin` handler is
 * `ignored` before anything needs the API (Stripe's `v2.core.event_destination.ping` ends here, key
 * or not); otherwise its notification is re-read from the stored body with the invocation's API
 * client, whose fetches its handlers share, or it is parked when there is no client.
 *
 * @example
 * const outcome = await runEvent(claimed, deps, Date.now());
 */
export async function runEvent(event: ClaimedEvent, deps: RunDeps, nowMs: number): Promise<Outcome> {
  const writes: Write[] = [];
  const write = (query: Write) => void writes.push(query);
  try {
    if (event.format === "snapshot") {
      const parsed = JSON.parse(event.payload) as Stripe.Event;
      const list = deps.handlers.for(parsed.type);
      const ctx: HandlerContext = withFulfil(deps, { env: deps.env, db: deps.db, stripe: deps.stripe, nowMs, write });
      for (const handler of list) await handler(parsed.data.object, parsed, ctx);
      return { kind: "done", status: list.length > 0 ? "processed" : "ignored", writes };
    }
    const list = deps.handlers.forThin(event.type);
    if (list.length === 0) return { kind: "done", status: "ignored", writes };
    const stripe = deps.stripe;
    if (!stripe) return { kind: "parked", error: noApiClientReason(deps.config), errorName: "no_stripe_api_client" };
    const notification = rehydrateThin(stripe, event.payload);
    const ctx = withFulfil(deps, { env: deps.env, db: deps.db, stripe: clientForThin(stripe, notification), nowMs, write });
    for (const handler of list) await handler(notification, ctx);
    return { kind: "done", status: "processed", writes };
  } catch (err) {
    return failure(err);
  }
}

/**
 * The outcome of an attempt that threw: `failed`, with the error's own text for `last_error` in D1,
 * where the operator looks when deciding on a replay (it is never logged or sent in a response).
 *
 * @example
 * return failure(err, "Writing the handlers' changes failed: ");
 */
export function failure(err: unknown, prefix = ""): Extract<Outcome, { kind: "failed" }> {
  const text = prefix + (err instanceof Error ? `${errorName(err)}: ${err.message}` : `Non-error thrown: ${String(err)}`);
  return {
    kind: "failed",
    error: text.length > MAX_ERROR_LENGTH ? `${text.slice(0, MAX_ERROR_LENGTH - 1)}…` : text,
    errorName: errorName(err),
  };
}

/**
 * A handler's context with its `fulfil`: the hooks registered for the kind, made once-only by `once`,
 * each given the same context but a `write` that commits with the fulfilment's done mark, not later
 * with the event's outcome.
 */
function withFulfil<C extends Omit<HandlerContext, "fulfil">>(deps: RunDeps, base: C): C & Pick<HandlerContext, "fulfil"> {
  const ctx: C & Pick<HandlerContext, "fulfil"> = {
    ...base,
    fulfil: async (kind, object, event) => {
      const hooks = deps.handlers.hooksFor(kind as FulfilmentKind);
      if (hooks.length === 0) return false;
      return once(deps.db, { objectId: object.id ?? "", kind, eventId: event.id, nowMs: base.nowMs }, async (write) => {
        const hookCtx = { ...ctx, write };
        for (const hook of hooks) await hook(object as never, event, hookCtx);
      });
    },
  };
  return ctx;
}
