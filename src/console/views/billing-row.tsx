import { columnName } from "../../billing/object";
import { objectHref, utc } from "./layout";

// Stripe's times in the billing tables are Unix seconds; `updatedAt` is ours, in milliseconds.
const STRIPE_SECONDS = new Set(["currentPeriodEnd", "cancelAt", "canceledAt", "trialEnd", "lastEventCreated"]);

/** A billing value as an operator reads it: times in UTC, booleans as yes/no, absent as a dash. */
export function cellValue(key: string, value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "boolean") return value ? "yes" : "no";
  if (typeof value === "number" && STRIPE_SECONDS.has(key)) return utc(value * 1000);
  if (typeof value === "number" && key === "updatedAt") return utc(value);
  if (key === "priceIds" && typeof value === "string") return (JSON.parse(value) as string[]).join(", ");
  if (key === "items" && typeof value === "string") {
    const items = JSON.parse(value) as { priceId: string | null; quantity: number | null }[];
    return items.map((i) => `${i.priceId ?? "?"} × ${i.quantity ?? 1}`).join(", ") || "—";
  }
  return String(value);
}

/** Every column of a billing row, named as in D1 (snake_case), with links to the objects it names in the row's account. */
export function BillingRow(props: { table: string; row: Record<string, unknown> }) {
  const account = typeof props.row.account === "string" ? props.row.account : "";
  return (
    <dl data-table={props.table}>
      {Object.entries(props.row).map(([key, value]) => (
        <>
          <dt>{columnName(key)}</dt>
          <dd class={typeof value === "string" && /_/.test(value) ? "mono" : undefined}>
            {key !== "id" && typeof value === "string" && /^(cus|sub|in|cs|pi|ch|evt|prod|price)_/.test(value) ? (
              <a href={objectHref(value, account)}>{value}</a>
            ) : (
              cellValue(key, value)
            )}
          </dd>
        </>
      ))}
    </dl>
  );
}
