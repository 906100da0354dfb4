import type { BillingObject } from "../../billing/object";
import type { Timeline, TimelineEvent } from "../../db/ledger/timeline";
import { TIMELINE_LIMIT } from "../../db/ledger/timeline";
import { BillingRow } from "./billing-row";
import { DataTable } from "./data-table";
import { Layout, objectHref, StatusBadge, utc } from "./layout";

/**
 * What happened to one Stripe object: its current billing row next to every ledger event that touched
 * it, in Stripe's `created` order with the order they arrived in, so out-of-order delivery is visible.
 */
export function ObjectPage(props: { searched: string; timeline: Timeline; object: BillingObject | null; customerId: string | null }) {
  const { timeline, object } = props;
  const objectId = timeline.objectId;
  const late = timeline.events.filter((e) => e.late).length;
  return (
    <Layout title={props.searched} signedIn={true}>
      <h2 class="mono">
        {objectId ?? props.searched}
        {timeline.account === "" ? "" : ` in ${timeline.account}`}
      </h2>
      {timeline.event && (
        <p class="note">
          Event <a href={`/admin/events/${timeline.event.id}`}>{timeline.event.id}</a> ({timeline.event.type}){" "}
          {objectId ? "is about this object; its whole timeline is below." : "is about no object (e.g. a destination ping)."}
        </p>
      )}
      {props.customerId && (
        <p class="actions">
          <a class="button" href={objectHref(props.customerId, timeline.account, "customers")}>
            Customer view of {props.customerId} →
          </a>
        </p>
      )}
      <div class="grid2">
        <div class="panel">
          <h2>Current state in the billing tables</h2>
          {object ? (
            <>
              <p class="muted">
                Table <code>{object.table}</code>
              </p>
              <BillingRow table={object.table} row={object.row} />
            </>
          ) : (
            <p class="muted">
              No row in the billing tables{objectId ? ` for ${objectId}` : ""}: not projected (yet), or a kind no table keeps (refunds are
              on their charge's row).
            </p>
          )}
        </div>
        <div class="panel">
          <h2>Delivery order</h2>
          <p>
            {timeline.events.length} event(s){timeline.more ? ` (the newest ${TIMELINE_LIMIT} arrivals)` : ""}. Ordered by Stripe's{" "}
            <code>created</code> time; "arrived" is the order they reached this Worker.
          </p>
          <p class={late > 0 ? "warn" : "muted"} data-late={late}>
            {late > 0
              ? `${late} event(s) arrived after an event Stripe created later: delivered out of order. ` +
                "The billing tables keep the newest state whatever the order."
              : "Every event arrived in the order Stripe created it."}
          </p>
        </div>
      </div>
      <DataTable<TimelineEvent>
        rows={timeline.events}
        empty="No event about this object is in the ledger (final events are deleted after LEDGER_RETENTION_DAYS)."
        rowClass={(e) => [e.late ? "late" : "", e.id === timeline.event?.id ? "current" : ""].join(" ").trim() || undefined}
        rowAttrs={(e) => ({ "data-event-id": e.id, "data-arrival": String(e.arrival) })}
        columns={[
          { label: "Created at Stripe", cell: (e) => utc(e.created * 1000) },
          { label: "Arrived", cell: (e) => (e.late ? `#${e.arrival} (late)` : `#${e.arrival}`) },
          { label: "Event", class: "mono", cell: (e) => <a href={`/admin/events/${e.id}`}>{e.id}</a> },
          { label: "Type", class: "mono", cell: (e) => e.type },
          { label: "Received", cell: (e) => utc(e.receivedAt) },
          { label: "Status", cell: (e) => <StatusBadge status={e.status} /> },
          { label: "Attempts", cell: (e) => e.attempts },
          { label: "Last error", class: "err", cell: (e) => e.lastError ?? "" },
        ]}
      />
    </Layout>
  );
}
