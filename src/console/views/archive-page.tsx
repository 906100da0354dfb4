import type { ArchivedHour } from "../../db/ledger/archive-catalogue";
import { DataTable } from "./data-table";
import { Layout, utc } from "./layout";

/**
 * The archive: the newest archived hours with their parts, events and bytes in R2, and how to restore
 * a range. `hours` is null when no ARCHIVE bucket is bound.
 */
export function ArchivePage(props: { hours: ArchivedHour[] | null; retentionDays: number }) {
  return (
    <Layout title="Archive" signedIn={true}>
      <h2>Archive</h2>
      {props.hours === null ? (
        <div class="note">
          No ARCHIVE bucket is bound: retention deletes final events after {props.retentionDays} days without keeping them. Add the
          [[r2_buckets]] block of wrangler.toml and deploy to keep them in R2.
        </div>
      ) : (
        <>
          <p class="muted">
            Final events older than {props.retentionDays} days are moved here by the cron: gzip JSON Lines in R2, grouped by UTC hour of
            arrival. The search box finds an archived event by its id. To process a range again (handlers run; fulfilments stay once-only),
            restore it: <span class="mono">npm run archive:restore -- --url … --from 2026-11-02T13:00Z --to 2026-11-02T14:00Z</span>
          </p>
          <DataTable
            rows={props.hours}
            empty="Nothing is archived yet: events reach the archive once they are older than the retention."
            rowAttrs={(h) => ({ "data-hour": new Date(h.hour).toISOString() })}
            columns={[
              { label: "Hour of arrival (UTC)", cell: (h) => utc(h.hour).slice(0, 16) },
              { label: "Events", cell: (h) => h.events },
              { label: "Parts", cell: (h) => h.parts },
              { label: "Bytes (gzip)", cell: (h) => h.bytes },
            ]}
          />
        </>
      )}
    </Layout>
  );
}
