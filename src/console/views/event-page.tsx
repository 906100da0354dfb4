import type { ArchivedEvent } from "../../archive/lookup";
import type { EventRecord } from "../../db/ledger/reads";
import { FINAL_STATUSES, REPLAYABLE_STATUSES } from "../../ledger/status";
import { Layout, StatusBadge, utc } from "./layout";

/**
 * One event: its ledger fields, last error, payload, a Replay button when it failed or died, and a
 * link to the explicit confirmation when it is final (processed or ignored). An archived event (read
 * from R2) is shown as it was archived, with how to restore it instead of the buttons.
 */
export function EventPage(props: { event: EventRecord | ArchivedEvent; notice?: string }) {
  const e = props.event;
  const archived = "archived" in e ? e.archived : null;
  let pretty = e.payload;
  try {
    pretty = JSON.stringify(JSON.parse(e.payload), null, 2);
  } catch {
    // shown as stored
  }
  return (
    <Layout title={e.id} signedIn={true}>
      <p>
        <a href="/admin">← All events</a>
      </p>
      {props.notice && (
        <div class="notice" role="status">
          {props.notice}
        </div>
      )}
      {archived && (
        <div class="note" data-archived={archived.key}>
          Archived: retention moved this event to R2 on {utc(archived.archivedAt)} (object <span class="mono">{archived.key}</span>). It is
          shown as it was then. To process it again, restore its hour:{" "}
          <span class="mono">
            npm run archive:restore -- --url … --from {new Date(archived.hour).toISOString()} --to{" "}
            {new Date(archived.hour + 3_600_000).toISOString()}
          </span>
        </div>
      )}
      <div class="panel">
        <h2 class="mono">{e.id}</h2>
        <dl>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={e.status} />
          </dd>
          <dt>Type</dt>
          <dd class="mono">{e.type}</dd>
          <dt>Format</dt>
          <dd>{e.format === "thin" ? "thin (data fetched from the Stripe API)" : "snapshot"}</dd>
          <dt>Object</dt>
          <dd class="mono">{e.objectId ? <a href={`/admin/objects/${e.objectId}`}>{e.objectId}</a> : "—"}</dd>
          <dt>Attempts</dt>
          <dd>{e.attempts}</dd>
          <dt>Received</dt>
          <dd>{utc(e.receivedAt)}</dd>
          <dt>Processed</dt>
          <dd>{utc(e.processedAt)}</dd>
          {e.deadAt !== null && (
            <>
              <dt>Dead since</dt>
              <dd>{utc(e.deadAt)}</dd>
            </>
          )}
          <dt>Created at Stripe</dt>
          <dd>{utc(e.created * 1000)}</dd>
          <dt>Mode</dt>
          <dd>{e.livemode ? "live" : "test"}</dd>
          <dt>Account</dt>
          <dd class="mono">{e.account ?? (e.context ? "—" : "platform")}</dd>
          {e.context && (
            <>
              <dt>Stripe-Context</dt>
              <dd class="mono">{e.context}</dd>
            </>
          )}
          <dt>Source</dt>
          <dd>{e.source}</dd>
          <dt>Verified by secret</dt>
          <dd>{e.secretIndex === null ? "—" : `#${e.secretIndex + 1}`}</dd>
        </dl>
        {!archived && (REPLAYABLE_STATUSES as readonly string[]).includes(e.status) && (
          <form method="post" action={`/admin/events/${e.id}/replay`} class="actions">
            <button type="submit">Replay</button>
          </form>
        )}
        {!archived && (FINAL_STATUSES as readonly string[]).includes(e.status) && (
          <p class="actions">
            <a class="button" href={`/admin/events/${e.id}/replay`}>
              Replay this {e.status} event…
            </a>
          </p>
        )}
      </div>
      {e.lastError && (
        <div class="panel">
          <h2>Last error</h2>
          <pre class="error">{e.lastError}</pre>
        </div>
      )}
      <div class="panel">
        <h2>Payload</h2>
        <pre>{pretty}</pre>
      </div>
    </Layout>
  );
}
