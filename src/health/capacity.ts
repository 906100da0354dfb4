import type { Config } from "../config";
import type { Check } from "./checks";

// How long one D1 database lasts at a given rate of events, for the operator's health report: a
// planning figure from the bytes per event `npm run bench` measured (bench/RESULTS.md, "Bytes stored
// per event", run of 2026-12-07 on the bench mix: Stripe's example objects, 1.1–4.3 KB each). Real
// events differ; the database's size now is the database check's.

/** Bytes of D1 per event in the ledger once final (row with its payload compressed, and its index entries). */
export const LEDGER_BYTES_PER_EVENT = 2_132;
/**
 * Bytes of D1 per new object in the billing tables. They grow with the objects, not the events (most
 * events update an object that exists): the worst case is every event a new object.
 */
export const BILLING_BYTES_PER_OBJECT = 191;
/** Bytes of D1 per archived event that the archive's catalogue keeps for good (parts and id fingerprints). */
export const ARCHIVE_CATALOGUE_BYTES_PER_EVENT = 3.2;
/** The rates the report plans for, events a month. */
const RATES = [1_000_000, 10_000_000, 30_000_000] as const;
const DAYS_PER_MONTH = 365.25 / 12;

/**
 * Months until a fresh database reaches `maxBytes` at `eventsPerMonth`, `newObjectsShare` of them
 * bringing a new billing row: the hot ledger holds `retentionDays` of events (all of them when 0), and
 * the billing tables, and with the archive its catalogue, grow for good. 0 when the hot ledger alone
 * does not fit; null when nothing grows.
 *
 * @example
 * monthsUntilFull(10_000_000, 7, true, 10e9, 0); // ≈ 159: the ledger and the archive's catalogue only
 */
export function monthsUntilFull(
  eventsPerMonth: number,
  retentionDays: number,
  archive: boolean,
  maxBytes: number,
  newObjectsShare: number,
): number | null {
  const billing = BILLING_BYTES_PER_OBJECT * newObjectsShare;
  if (retentionDays === 0) return maxBytes / (eventsPerMonth * (LEDGER_BYTES_PER_EVENT + billing));
  const growing = billing + (archive ? ARCHIVE_CATALOGUE_BYTES_PER_EVENT : 0);
  const hot = ((eventsPerMonth * retentionDays) / DAYS_PER_MONTH) * LEDGER_BYTES_PER_EVENT;
  if (hot >= maxBytes) return 0;
  return growing === 0 ? null : (maxBytes - hot) / (eventsPerMonth * growing);
}

/**
 * The capacity entry of the health report: always `ok` (a plan, not a failure), with the retention in
 * force, whether the archive is bound, the months until D1_MAX_BYTES at 1M, 10M and 30M events a month
 * (the ledger and the archive's catalogue; and, the worst case, with every event a new billing row),
 * and the most events a month the hot ledger holds. A warning names a rate whose hot ledger alone would
 * not fit.
 *
 * @example
 * capacityCheck(config).months_until_full["10M"]; // 159.2 with the archive and 7 days
 */
export function capacityCheck(config: Pick<Config, "retentionDays" | "archive" | "d1MaxBytes">): Check & {
  retention_days: number;
  archive: boolean;
  months_until_full: Record<string, number | null>;
  months_until_full_every_event_a_new_object: Record<string, number | null>;
  events_per_month_held: number | null;
  basis: string;
} {
  const { retentionDays, archive, d1MaxBytes } = config;
  const byRate = (newObjectsShare: number) =>
    Object.fromEntries(
      RATES.map((rate) => {
        const m = monthsUntilFull(rate, retentionDays, archive, d1MaxBytes, newObjectsShare);
        return [`${rate / 1_000_000}M`, m === null ? null : Math.floor(m * 10) / 10];
      }),
    );
  const months = byRate(0);
  const held = retentionDays === 0 ? null : Math.floor((d1MaxBytes / (LEDGER_BYTES_PER_EVENT * retentionDays)) * DAYS_PER_MONTH);
  const check: ReturnType<typeof capacityCheck> = {
    ok: true,
    retention_days: retentionDays,
    archive,
    months_until_full: months,
    months_until_full_every_event_a_new_object: byRate(1),
    events_per_month_held: held,
    basis:
      `${LEDGER_BYTES_PER_EVENT} bytes per event in the ledger` +
      `${archive ? `, ${ARCHIVE_CATALOGUE_BYTES_PER_EVENT} per archived event in the archive's catalogue` : ""}, ` +
      `${BILLING_BYTES_PER_OBJECT} per new object in the billing tables (npm run bench; docs/SCALING.md)`,
  };
  const tooMany = Object.entries(months).filter(([, m]) => m === 0);
  if (tooMany.length > 0)
    check.warnings = [
      `At ${tooMany.map(([rate]) => rate).join(" or ")} events a month, ${retentionDays} days of events would not fit in ` +
        `D1_MAX_BYTES${archive ? "" : ": bind the ARCHIVE bucket and keep 7 days"}, or see docs/SCALING.md.`,
    ];
  return check;
}
