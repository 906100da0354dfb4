import { HOUR_MS } from "../../db/ledger/hours";
import type { LedgerHourRow } from "../../db/schema";
import { DeliveriesChart, duration, LinesChart, type Slot, STACK, slots } from "./charts";
import { DataTable } from "./data-table";
import { lagOf } from "./hour-figures";
import { Layout, utc } from "./layout";

/**
 * The charts: deliveries per hour over 24 hours and 7 days stacked by status, the processing lag
 * (p50, p95), and the failed and dead events in the ledger over time. Drawn from `ledger_hours`
 * only (at most 169 rows), never from the ledger itself.
 */
export function ChartsPage(props: { rows: LedgerHourRow[]; currentHour: number }) {
  const end = props.currentHour + HOUR_MS;
  const day = slots(props.rows, end - 24 * HOUR_MS, end);
  const week = slots(props.rows, end - 7 * 24 * HOUR_MS, end);
  return (
    <Layout title="Charts" signedIn={true}>
      <p class="muted">
        Hours are UTC hours of arrival; each arrival is counted once, by its status now. The cron's sweep counts an arrival when it passes
        it, 5 minutes after it arrived, and every later move (a retry, a death, a replay) updates its hour; the arrivals it has not counted
        yet are read as they are now. The lag percentiles are read from counts per lag bucket, so each is within its bucket (for example
        between 1 and 2 s).
      </p>
      {props.rows.length === 0 && (
        <div class="note">
          No figures yet: no event arrived in the last 7 days, or the cron never ran (locally, `wrangler dev` runs no cron: open
          /cdn-cgi/local/scheduled).
        </div>
      )}
      <DeliveriesChart title="Deliveries per hour, last 24 hours" slots={day} everyHours={3} />
      <DeliveriesChart title="Deliveries per hour, last 7 days" slots={week} everyHours={24} />
      <LinesChart
        title="Processing lag (received → processed), p50 and p95 per hour, last 7 days"
        slots={week}
        everyHours={24}
        log={true}
        format={duration}
        series={[
          { key: "p50", label: "p50", of: (r) => lagOf(r, 50) },
          { key: "p95", label: "p95", of: (r) => lagOf(r, 95) },
        ]}
      />
      <LinesChart
        title="Failed and dead events in the ledger, last 7 days"
        slots={week}
        everyHours={24}
        format={(v) => String(v)}
        series={[
          { key: "failed", label: "failed (being retried or parked)", of: (r) => r.failedTotal },
          { key: "dead", label: "dead (waiting for a replay)", of: (r) => r.deadTotal },
        ]}
      />
      <details class="panel">
        <summary>The figures, hour by hour (last 24 hours)</summary>
        <Figures slots={day} />
      </details>
    </Layout>
  );
}

function Figures(props: { slots: Slot[] }) {
  const rows = props.slots.filter((s) => s.row !== null).reverse();
  return (
    <DataTable
      rows={rows}
      empty="No figures yet."
      rowAttrs={(s) => ({ "data-hour": new Date(s.hour).toISOString() })}
      columns={[
        { label: "Hour (UTC)", cell: (s) => utc(s.hour).slice(0, 16) },
        ...STACK.map((part) => ({ label: part.label, cell: (s: Slot) => part.of(s.row!) })),
        { label: "lag p50", cell: (s) => formatLag(lagOf(s.row!, 50)) },
        { label: "lag p95", cell: (s) => formatLag(lagOf(s.row!, 95)) },
        {
          label: "failed / dead in ledger",
          cell: (s) => (s.row!.failedTotal === null ? "—" : `${s.row!.failedTotal} / ${s.row!.deadTotal}`),
        },
      ]}
    />
  );
}

function formatLag(ms: number | null): string {
  return ms === null ? "—" : duration(ms);
}
