import type { BatchItem } from "drizzle-orm/batch";
import type Stripe from "stripe";
import type { Config } from "../config";
import type { Database } from "../db/client";
import type { ClaimedEvent } from "../db/ledger/consumer";
import { errorName } from "../log";
import { noApiClientReason, stripeStatus } from "../stripe/api";
import { clientFor } from "../stripe/connected-accounts";
import { clientForThin, rehydrateThin } from "../stripe/thin";
import type { FulfilmentKind, LifecycleChange, LifecycleKind } from "./hooks";
import { once } from "./once";
import type { HandlerContext, Handlers } from "./registry";

type Write = BatchItem<"sqlite">;

/**
 * What running one event's handlers came to, for the consumer to commit and answer the queue with:
 * - `done`: `processed` (a handler ran) or `ignored` (none applies: no handler for the type, the
 *   other Stripe mode's event, or a connected account's event that only built-in handlers want),
 *   with the handlers' queued writes to commit together with that status and, for `ignored`, why;
 *   `emitted` when they include a lifecycle event's insert (the consumer sends it on after the commit);
 * - `failed`: a handler threw; the queue retries it with backoff;
 * - `parked`: no retry can succeed until an operator acts (a thin event with no API client); the
 *   message is acked and the row waits, `failed`, for a replay;
 * - `deferred`: the attempt could not start or finish for a reason that passes by itself (the Stripe
 *   API budget is spent, STRIPE_MODE is not set yet): sent again after `delaySeconds`, no attempt spent.
 */
export type Outcome =
  | { kind: "done"; status: "processed" | "ignored"; writes: Write[]; note?: string; emitted?: boolean }
  | { kind: "failed"; error: string; errorName: string }
  | { kind: "parked"; error: string; errorName: string }
  | { kind: "deferred"; delaySeconds: number; reason: "stripe_api_budget" | "stripe_mode_unset" };

/** A claimed event, and whether its twin (a thin event's snapshot event, or the reverse) is already done. */
export type ClaimedForRun = ClaimedEvent & { twinDone: boolean };

/** What running an event needs: the invocation's dependencies (src/deps.ts), which it is given. */
export interface RunDeps {
  env: Env;
  config: Config;
  db: Database;
  stripe: Stripe | null;
  stripeBudget: { readonly spent: boolean };
  handlers: Handlers;
}

/** Longest `last_error` kept in D1. */
const MAX_ERROR_LENGTH = 1000;
/** When a deferred event comes back: long enough for the API budget's window and a 429's pause to pass. */
const DEFER_SECONDS = { stripe_api_budget: 30, stripe_mode_unset: 300 } as const;

/**
 * Runs the registered handlers for one claimed event and says what came of it; never throws.
 *
 * Before any handler: the second of two twins (a thin `v1.*` event and the snapshot event it names as
 * `snapshot_event`) is `ignored`, without an API call; an event of the other Stripe mode than STRIPE_MODE is `ignored` (a test-mode
 * checkout must never grant live access), and one arriving before STRIPE_MODE is set is deferred. A
 * connected account's event (its `account`, or a thin event's context) reaches the handlers
 * registered for `all` events, with `ctx.account` set; the built-in billing handlers (scoped to the
 * `platform`) get it only with STRIPE_CONNECT_BILLING=true.
 *
 * A snapshot event's `on` handlers get its `data.object`. A thin event with no `onThin` handler is
 * `ignored` before anything needs the API (Stripe's `v2.core.event_destination.ping` ends here, key
 * or not); otherwise its notification is re-read from the stored body with the invocation's API
 * client, whose fetches its handlers share, or it is parked when there is no client. A failure while
 * the invocation's API budget is spent, or a 429 from Stripe, is deferred, not failed.
 *
 * @example
 * const outcome = await runEvent(claimed, deps, Date.now());
 */
export async function runEvent(event: ClaimedForRun, deps: RunDeps, nowMs: number): Promise<Outcome> {
  const { config } = deps;
  // Before the mode: a twin's fate was decided when its twin was processed.
  if (event.twinDone) {
    return ignored(
      event.twinOf === null
        ? "Its thin twin (a v1.* event naming this one as snapshot_event) was processed already: the same change, not processed twice."
        : `Its snapshot twin ${event.twinOf} was processed already: the same change, not processed twice (and not fetched).`,
    );
  }
  if (config.stripeMode === null) return deferred("stripe_mode_unset");
  if (event.livemode !== (config.stripeMode === "live")) {
    const mode = event.livemode ? "live" : "test";
    return ignored(`A ${mode}-mode event, and this Worker processes ${config.stripeMode}-mode events only (STRIPE_MODE).`);
  }
  const account = event.account ?? event.context;
  const withPlatformScoped = account === null || config.connectBilling;
  const writes: Write[] = [];
  let emitted = false;
  const base = {
    env: deps.env,
    config,
    db: deps.db,
    nowMs,
    account,
    write: (query: Write) => void writes.push(query),
    emit: (query: Write) => {
      writes.push(query);
      emitted = true;
    },
    wants: (kind: LifecycleKind) => deps.handlers.lifecycleHooksFor(kind).length > 0,
  };
  const done = (): Outcome => ({ kind: "done", status: "processed", writes, emitted });
  try {
    if (event.format === "lifecycle") {
      // What src/billing/lifecycle.ts recorded for the transition.
      const change = JSON.parse(event.payload) as LifecycleChange;
      const hooks = deps.handlers.lifecycleHooksFor(change.kind);
      if (hooks.length === 0) return ignored(`No hook is registered for ${change.kind} any more.`);
      const changed = change.account === "" ? null : change.account;
      const ctx = withFulfil(deps, { ...base, account: changed, stripe: deps.stripe && clientFor(deps.stripe, changed) });
      for (const hook of hooks) await hook(change, ctx);
      return done();
    }
    if (event.format === "snapshot") {
      const parsed = JSON.parse(event.payload) as Stripe.Event;
      const list = deps.handlers.for(parsed.type, withPlatformScoped);
      if (list.length === 0) return ignored(connectedNote(deps.handlers.for(parsed.type).length, account));
      // A connected account's event: API calls its handlers make act as that account.
      const ctx = withFulfil(deps, { ...base, stripe: deps.stripe && clientFor(deps.stripe, account) });
      for (const handler of list) await handler(parsed.data.object, parsed, ctx);
      return done();
    }
    const list = deps.handlers.forThin(event.type, withPlatformScoped);
    if (list.length === 0) return ignored(connectedNote(deps.handlers.forThin(event.type).length, account));
    const stripe = deps.stripe;
    if (!stripe) return { kind: "parked", error: noApiClientReason(config), errorName: "no_stripe_api_client" };
    const notification = rehydrateThin(stripe, event.payload);
    const ctx = withFulfil(deps, { ...base, stripe: clientForThin(stripe, notification) });
    for (const handler of list) await handler(notification, ctx);
    return done();
  } catch (err) {
    // The API budget ran out, or Stripe itself said 429 (its Retry-After now pauses every invocation):
    // the event waits in the queue, its attempt not counted, rather than failing towards the DLQ.
    return deps.stripeBudget.spent || stripeStatus(err) === 429 ? deferred("stripe_api_budget") : failure(err);
  }
}

function ignored(note: string | undefined): Outcome {
  return { kind: "done", status: "ignored", writes: [], ...(note ? { note } : {}) };
}

function deferred(reason: Extract<Outcome, { kind: "deferred" }>["reason"]): Outcome {
  return { kind: "deferred", delaySeconds: DEFER_SECONDS[reason], reason };
}

/** Why a connected account's event was ignored although handlers exist for its type; undefined when none exists at all. */
function connectedNote(handlersForType: number, account: string | null): string | undefined {
  if (handlersForType === 0 || account === null) return undefined;
  return (
    `A connected account's event (${account}): the built-in billing handlers apply to connected accounts only with ` +
    "STRIPE_CONNECT_BILLING=true, and no handler of yours is registered for it."
  );
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
      const key = { account: base.account ?? "", objectId: object.id ?? "", kind, eventId: event.id, nowMs: base.nowMs };
      return once(deps.db, key, async (write) => {
        const hookCtx = { ...ctx, write };
        for (const hook of hooks) await hook(object as never, event, hookCtx);
      });
    },
  };
  return ctx;
}
