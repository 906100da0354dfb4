import type { EventSummary } from "../../db/ledger/reads";
import { Layout, queryString, StatusBadge, utc } from "./layout";

/** The current list filter, as the events page's form submits it. */
export interface FilterQuery {
  status?: string;
  type?: string;
  from?: string;
  to?: string;
}

function describe(q: FilterQuery): string {
  const parts = [
    q.status ? `status ${q.status}` : "status failed or dead",
    q.type && `type ${q.type}`,
    q.from && `arrived from ${q.from} UTC`,
    q.to && `to ${q.to} UTC`,
  ];
  return parts.filter(Boolean).join(", ");
}

/**
 * The confirmation of a bulk replay: how many `failed`/`dead` events match the filter (counted from
 * the attention index), what a replay does, and a form that posts the same filter.
 */
export function BulkReplayPage(props: { query: FilterQuery; count: number; max: number }) {
  const { query, count } = props;
  const back = `/admin?${queryString(query)}`;
  return (
    <Layout title="Replay events" signedIn={true}>
      <p>
        <a href={back}>← Back to the events</a>
      </p>
      <div class="panel">
        <h2>Replay the failed and dead events matching this filter</h2>
        <p>
          Filter: <strong>{describe(query)}</strong>.
        </p>
        <p class="replay-count" data-count={count}>
          {count === 0
            ? "No failed or dead event matches this filter: there is nothing to replay."
            : `${count} failed or dead event(s) match.`}
        </p>
        {count > 0 && (
          <>
            <p class="muted">
              Each one is put back to <code>received</code> with its attempts reset and sent to the queue, so its handlers run again.
              Fulfilment is once-only: a <code>fulfil</code> hook that already completed for an event's object does not run again.{" "}
              {`At most ${props.max} are replayed per confirmation, newest arrival first; this page then offers the rest.`}
            </p>
            <form method="post" action="/admin/replay" class="actions">
              {Object.entries(query).map(([name, value]) => (value ? <input type="hidden" name={name} value={value} /> : null))}
              <button type="submit">Replay {Math.min(count, props.max)} event(s)</button>
              <a href={back}>Cancel</a>
            </form>
          </>
        )}
      </div>
    </Layout>
  );
}

/**
 * The explicit confirmation of replaying a `processed` (or `ignored`) event, e.g. after a handler was
 * fixed: it says what runs again and that fulfilment does not.
 */
export function ReplayProcessedPage(props: { event: EventSummary }) {
  const e = props.event;
  return (
    <Layout title={`Replay ${e.id}`} signedIn={true}>
      <p>
        <a href={`/admin/events/${e.id}`}>← Back to the event</a>
      </p>
      <div class="panel">
        <h2>
          Replay a <StatusBadge status={e.status} /> event?
        </h2>
        <p class="mono">
          {e.id} · {e.type} · received {utc(e.receivedAt)}
        </p>
        <div class="warn">
          This event was already {e.status}. Replaying it runs its handlers again: every <code>on</code> handler for {e.type} runs once more
          (they must be idempotent), and the billing tables keep the newest state, so an older event changes nothing there.
        </div>
        <p>
          <strong>Fulfilment is once-only.</strong> A <code>fulfil</code> hook that already completed for this event's object (a paid
          Checkout Session, a paid invoice) does not run again, whichever event or replay reaches it; one that never completed runs now.
        </p>
        <form method="post" action={`/admin/events/${e.id}/replay`} class="actions">
          <input type="hidden" name="allow_processed" value="true" />
          <button type="submit">Replay this {e.status} event</button>
          <a href={`/admin/events/${e.id}`}>Cancel</a>
        </form>
      </div>
    </Layout>
  );
}
