import type { Child } from "hono/jsx";
import { type EventPage, type EventSummary, SCAN_WINDOW } from "../../db/ledger/reads";
import type { LedgerStats } from "../../db/ledger/stats";
import { EVENT_STATUSES, UNFINISHED_STATUSES, type UnfinishedStatus } from "../../ledger/status";
import { Layout, queryString, StatusBadge, utc } from "./layout";

export interface EventsPageProps {
  stats: LedgerStats;
  events: EventSummary[];
  /** The current filter as the form submitted it, to refill the form and build links. */
  query: { status?: string; type?: string; from?: string; to?: string };
  nextCursor: string | null;
  /** Set when this filter has no index and the page read a bounded window of arrivals. */
  window: EventPage["window"];
  notice?: string;
  /** Shown above the counts: the endpoint drift warning and the backfill panel (views/status-banner.tsx). */
  banner?: Child;
  /** Offered after a bulk replay that stopped at its maximum. */
  moreToReplay?: boolean;
}

/**
 * The console's main page: counts per status (exact for unfinished and dead events, the last 24 hours
 * for final ones, which retention prunes), a filter form, and the matching events.
 */
export function EventsPage(props: EventsPageProps) {
  const { stats, events, query } = props;
  const total = Object.values(stats.recent.byStatus).reduce((a, b) => a + b, 0);
  const isUnfinished = (s: string): s is UnfinishedStatus => (UNFINISHED_STATUSES as readonly string[]).includes(s);
  const params = (extra: Record<string, string>) => queryString({ ...query, ...extra });
  const link = (extra: Record<string, string>) => `/admin?${params(extra)}`;
  const statuses = query.status ? query.status.split(",") : ["failed", "dead"];
  const replayable = stats.unfinished.failed + stats.unfinished.dead > 0 && statuses.some((s) => s === "failed" || s === "dead");
  return (
    <Layout title="Events" signedIn={true}>
      {props.notice && (
        <div class="notice" role="status">
          {props.notice}
          {props.moreToReplay && (
            <>
              {" "}
              More match: <a href={`/admin/replay?${params({})}`}>replay the rest…</a>
            </>
          )}
        </div>
      )}
      {props.banner}
      <div class="cards">
        <a class="card" href="/admin">
          <div class="n">{total}</div>
          <div class="l">events, last 24 h</div>
        </a>
        {EVENT_STATUSES.map((s) => (
          <a class="card" href={`/admin?status=${s}`} data-status={s}>
            <div class="n">{isUnfinished(s) ? stats.unfinished[s] : stats.recent.byStatus[s]}</div>
            <div class="l">
              <StatusBadge status={s} /> {isUnfinished(s) ? "" : "24 h"}
            </div>
          </a>
        ))}
      </div>
      <div class="panel">
        <form class="filters" method="get" action="/admin">
          <label>
            Status
            <select name="status">
              <option value="">any</option>
              {EVENT_STATUSES.map((s) => (
                <option value={s} selected={query.status === s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Type
            <input name="type" value={query.type ?? ""} placeholder="invoice.paid" list="types" />
            <datalist id="types">
              {stats.recent.byType.map((t) => (
                <option value={t.type} />
              ))}
            </datalist>
          </label>
          <label>
            Arrived from (UTC)
            <input type="datetime-local" name="from" value={query.from ?? ""} />
          </label>
          <label>
            to (UTC)
            <input type="datetime-local" name="to" value={query.to ?? ""} />
          </label>
          <button type="submit">Filter</button>
          <a href="/admin">Clear</a>
        </form>
        <p class="muted">
          Oldest unprocessed:{" "}
          {stats.oldestUnprocessed ? (
            <a class="mono" href={`/admin/events/${stats.oldestUnprocessed.id}`}>
              {stats.oldestUnprocessed.id}
            </a>
          ) : (
            "none"
          )}
          {stats.oldestUnprocessed && ` (${stats.oldestUnprocessed.status}, received ${utc(stats.oldestUnprocessed.receivedAt)})`}
          {" · "}Deliveries per secret, last 24 h:{" "}
          {stats.recent.bySecretIndex.length === 0
            ? "none"
            : stats.recent.bySecretIndex.map((s) => `#${s.secretIndex + 1}: ${s.count} (last ${utc(s.lastReceivedAt)})`).join(", ")}
        </p>
      </div>
      {props.window && (
        <p class="note" data-window-rows={props.window.rowsRead}>
          A type or a processed/ignored status has no index: each page reads at most {SCAN_WINDOW} arrivals, newest first, and shows the
          matches among them, so a page may hold fewer events than fit (or none) while older arrivals remain. This page read{" "}
          {props.window.rowsRead}
          {props.window.oldestSeq !== null ? `, back to ${utc(Math.floor(props.window.oldestSeq / 1000))}` : ""}.
        </p>
      )}
      {replayable && (
        <p class="actions">
          <a class="button" href={`/admin/replay?${params({})}`}>
            Replay the failed and dead events matching this filter…
          </a>
        </p>
      )}
      <table>
        <thead>
          <tr>
            <th>Event</th>
            <th>Type</th>
            <th>Status</th>
            <th>Attempts</th>
            <th>Received</th>
            <th>Last error</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr data-event-id={e.id}>
              <td class="mono">
                <a href={`/admin/events/${e.id}`}>{e.id}</a>
              </td>
              <td class="mono">{e.type}</td>
              <td>
                <StatusBadge status={e.status} />
              </td>
              <td>{e.attempts}</td>
              <td>{utc(e.receivedAt)}</td>
              <td class="err" title={e.lastError ?? ""}>
                {e.lastError ?? ""}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {events.length === 0 && <div class="empty panel">No events match this filter.</div>}
      <div class="pager">
        <span />
        {props.nextCursor && <a href={link({ cursor: props.nextCursor })}>{props.window ? "Search older arrivals →" : "Older events →"}</a>}
      </div>
    </Layout>
  );
}
