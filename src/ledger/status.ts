/**
 * Where an event is in its life, and which moves between statuses the ledger allows. Pure: the
 * statements that make the moves live in src/db/ledger/, each file by who runs it.
 *
 *   received ──claim──▶ processing ──finish──▶ processed | ignored      (final)
 *       ▲                    │
 *       │                  fail ──▶ failed ──claim──▶ processing …
 *       │                    │              └─retries exhausted──▶ dead (dead_at set)
 *       │                  park ──▶ failed, parked (no retry, no re-drive: waits for an operator)
 *       ├───── defer ◀───────┘ (the Stripe API budget is spent, or STRIPE_MODE is unset: sent again
 *       │                       later, the attempt not counted towards the dead-letter queue)
 *       ├──────────── replay (failed | dead) ◀──────────────────────────┘
 *       └──────────── replay (processed | ignored), only when explicitly allowed
 *
 * Replaying a final event is safe because fulfilments are once-only (src/handlers/once.ts) and
 * projections keep the newest state; it still runs `on` handlers again, so it needs an operator's
 * explicit confirmation (`allowFinal`), e.g. after fixing a handler.
 *
 * A parked row is `failed` with no `redrive_at`: the queue acked it and the cron never selects it,
 * so nothing retries it in a loop; a replay (which accepts any `failed` row) processes it again.
 */
export const EVENT_STATUSES = ["received", "processing", "processed", "ignored", "failed", "dead"] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** Statuses nothing moves on from but an operator's replay. */
export const FINAL_STATUSES = ["processed", "ignored"] as const satisfies readonly EventStatus[];
export type FinalStatus = (typeof FINAL_STATUSES)[number];
/** Statuses that still owe processing; `dead` waits for an operator instead. */
export const OPEN_STATUSES = ["received", "processing", "failed"] as const satisfies readonly EventStatus[];
/** Statuses an operator may replay, and that retention never deletes. */
export const REPLAYABLE_STATUSES = ["dead", "failed"] as const satisfies readonly EventStatus[];
/** Every status that is not final: counted exactly, whatever its age, by the stats and the console. */
export const UNFINISHED_STATUSES = [...OPEN_STATUSES, "dead"] as const satisfies readonly EventStatus[];
export type UnfinishedStatus = (typeof UNFINISHED_STATUSES)[number];
/** Statuses a queue message may claim outright (a `processing` row only once its lease has run out). */
export const CLAIMABLE_STATUSES = ["received", "failed"] as const satisfies readonly EventStatus[];

/**
 * What a replay may reset: failed and dead events, and final ones too when explicitly allowed.
 *
 * @example
 * replayableStatuses(true); // ["dead", "failed", "processed", "ignored"]
 */
export function replayableStatuses(allowFinal: boolean): readonly EventStatus[] {
  return allowFinal ? [...REPLAYABLE_STATUSES, ...FINAL_STATUSES] : REPLAYABLE_STATUSES;
}

/** Whether `status` is one of `statuses` (a typed `includes` for the readonly tuples above). */
export function isOneOf<S extends EventStatus>(statuses: readonly S[], status: string): status is S {
  return (statuses as readonly string[]).includes(status);
}
