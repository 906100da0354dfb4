import type { Child } from "hono/jsx";

/** One column of a DataTable: its header and how a row fills its cell. */
export interface Column<T> {
  label: string;
  cell: (row: T) => Child;
  /** `mono` for ids, `err` for error text. */
  class?: string;
}

/**
 * A table of rows with a message when there are none; every console list of billing rows and events
 * is one, so they look and read alike.
 *
 * @example
 * <DataTable rows={subs} empty="No subscriptions." columns={[{ label: "Subscription", cell: (s) => s.id, class: "mono" }]} />
 */
export function DataTable<T>(props: {
  rows: readonly T[];
  columns: Column<T>[];
  empty: string;
  rowClass?: (row: T) => string | undefined;
  rowAttrs?: (row: T) => Record<string, string>;
}) {
  if (props.rows.length === 0) return <p class="muted">{props.empty}</p>;
  return (
    <table>
      <thead>
        <tr>
          {props.columns.map((c) => (
            <th>{c.label}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => (
          <tr class={props.rowClass?.(row)} {...(props.rowAttrs?.(row) ?? {})}>
            {props.columns.map((c) => (
              <td class={c.class}>{c.cell(row)}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
