import { HOUR_MS } from "../../db/ledger/hours";
import type { LedgerHourRow } from "../../db/schema";
import { pending } from "./hour-figures";
import { utc } from "./layout";

// Server-rendered SVG charts: no script, no style attribute (colours come from classes in the
// console's stylesheet), a <title> on every bar and point that the browser shows on hover, and the
// figures in a table under each chart, so they can be read without JavaScript or a mouse.

const W = 960;
const H = 220;
const PLOT = { left: 56, right: W - 8, top: 10, bottom: H - 26 };

/** The hourly slots of a chart, oldest first: a row of ledger_hours or null where the cron has none. */
export interface Slot {
  hour: number;
  row: LedgerHourRow | null;
}

/** One slot per hour in [`from`, `to`), filled from `rows` (which may miss hours). */
export function slots(rows: readonly LedgerHourRow[], from: number, to: number): Slot[] {
  const byHour = new Map(rows.map((r) => [r.hour, r]));
  const out: Slot[] = [];
  for (let hour = from; hour < to; hour += HOUR_MS) out.push({ hour, row: byHour.get(hour) ?? null });
  return out;
}

/** The stacked series of the deliveries chart, bottom to top, and how each is read from a row. */
export const STACK = [
  { key: "processed", label: "processed", of: (r: LedgerHourRow) => Math.max(0, r.processed) },
  { key: "ignored", label: "ignored", of: (r: LedgerHourRow) => Math.max(0, r.ignored) },
  { key: "pending", label: "received or processing", of: pending },
  { key: "failed", label: "failed", of: (r: LedgerHourRow) => Math.max(0, r.failed) },
  { key: "dead", label: "dead", of: (r: LedgerHourRow) => Math.max(0, r.dead) },
] as const;

const x = (i: number, n: number) => PLOT.left + ((PLOT.right - PLOT.left) * i) / n;

/** 0, the middle (when it is a whole number) and the top: counts never get a fractional gridline. */
function countTicks(max: number): number[] {
  return max % 2 === 0 ? [0, max / 2, max] : [0, max];
}

/** Round up to 1, 2 or 5 × a power of ten, so the axis reads in round numbers. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((m) => m * power >= value) ?? 10) * power;
}

/** Labels of the hour axis: every `every` hours, at the start of a UTC day for weekly charts. */
function HourAxis(props: { slots: Slot[]; everyHours: number }) {
  const n = props.slots.length;
  return (
    <>
      <line class="axis" x1={PLOT.left} x2={PLOT.right} y1={PLOT.bottom} y2={PLOT.bottom} />
      {props.slots.map((s, i) =>
        (s.hour / HOUR_MS) % props.everyHours === 0 ? (
          <text x={x(i, n)} y={H - 8}>
            {props.everyHours >= 24 ? utc(s.hour).slice(5, 10) : utc(s.hour).slice(11, 16)}
          </text>
        ) : null,
      )}
    </>
  );
}

function ValueAxis(props: { format: (v: number) => string; scale: (v: number) => number; ticks: number[] }) {
  return (
    <>
      {props.ticks.map((t) => (
        <>
          <line class="grid" x1={PLOT.left} x2={PLOT.right} y1={props.scale(t)} y2={props.scale(t)} />
          <text x={PLOT.left - 6} y={props.scale(t) + 4} text-anchor="end">
            {props.format(t)}
          </text>
        </>
      ))}
    </>
  );
}

/**
 * Deliveries per hour stacked by status (each arrival counted once, by its status now). Each bar
 * segment carries `data-hour`, `data-status` and `data-count` for tests and scripts.
 */
export function DeliveriesChart(props: { title: string; slots: Slot[]; everyHours: number }) {
  const n = props.slots.length;
  const totals = props.slots.map((s) => (s.row ? STACK.reduce((sum, part) => sum + part.of(s.row!), 0) : 0));
  const max = niceMax(Math.max(0, ...totals));
  const scale = (v: number) => PLOT.bottom - ((PLOT.bottom - PLOT.top) * v) / max;
  const width = Math.max(1, (PLOT.right - PLOT.left) / n - (n > 48 ? 1 : 3));
  return (
    <figure class="panel">
      <figcaption>{props.title}</figcaption>
      <svg
        class="chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={`${props.title}: ${totals.reduce((a, b) => a + b, 0)} deliveries`}
      >
        <ValueAxis ticks={countTicks(max)} scale={scale} format={(v) => String(v)} />
        {props.slots.map((s, i) => {
          if (!s.row) return null;
          let base = 0;
          return STACK.map((part) => {
            const count = part.of(s.row!);
            if (count === 0) return null;
            const y = scale(base + count);
            const height = scale(base) - y;
            base += count;
            return (
              <rect
                class={`c-${part.key}`}
                x={x(i, n)}
                y={y}
                width={width}
                height={height}
                data-hour={new Date(s.hour).toISOString()}
                data-status={part.key}
                data-count={count}
              >
                <title>{`${utc(s.hour)}: ${count} ${part.label}`}</title>
              </rect>
            );
          });
        })}
        <HourAxis slots={props.slots} everyHours={props.everyHours} />
      </svg>
      <Legend items={STACK.map((p) => ({ key: p.key, label: p.label }))} />
    </figure>
  );
}

/** A line per series over the hours; null values leave a gap. */
export function LinesChart(props: {
  title: string;
  slots: Slot[];
  everyHours: number;
  series: { key: string; label: string; of: (r: LedgerHourRow) => number | null }[];
  /** Logarithmic for durations that span milliseconds to days. */
  log?: boolean;
  format: (v: number) => string;
}) {
  const n = props.slots.length;
  const values = props.series.flatMap((s) =>
    props.slots.map((slot) => (slot.row ? s.of(slot.row) : null)).filter((v): v is number => v !== null),
  );
  const { scale, ticks } = props.log ? logScale(values) : linearScale(values);
  const step = (PLOT.right - PLOT.left) / n;
  return (
    <figure class="panel">
      <figcaption>{props.title}</figcaption>
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
        <ValueAxis ticks={ticks} scale={scale} format={props.format} />
        {props.series.map((series) => {
          const values = props.slots.map((slot) => (slot.row ? series.of(slot.row) : null));
          const at = (i: number, v: number) => [(x(i, n) + step / 2).toFixed(1), scale(v).toFixed(1)] as const;
          return (
            <>
              {segments(values).map((segment) => (
                <polyline
                  class={`c-${series.key}`}
                  data-series={series.key}
                  points={segment.map(([i, v]) => at(i, v).join(",")).join(" ")}
                />
              ))}
              {/* A dot per hour, so a lone value shows and each one can be read on hover. */}
              {values.map((v, i) =>
                v === null ? null : (
                  <circle
                    class={`c-${series.key}`}
                    cx={at(i, v)[0]}
                    cy={at(i, v)[1]}
                    r="2.5"
                    data-hour={new Date(props.slots[i]!.hour).toISOString()}
                    data-value={v}
                  >
                    <title>{`${utc(props.slots[i]!.hour)}: ${series.label} ${props.format(v)}`}</title>
                  </circle>
                ),
              )}
            </>
          );
        })}
        <HourAxis slots={props.slots} everyHours={props.everyHours} />
      </svg>
      <Legend items={props.series.map((s) => ({ key: s.key, label: s.label }))} />
    </figure>
  );
}

function Legend(props: { items: { key: string; label: string }[] }) {
  return (
    <ul class="legend">
      {props.items.map((item) => (
        <li>
          <span class={`swatch c-${item.key}`} />
          {item.label}
        </li>
      ))}
    </ul>
  );
}

/** Runs of consecutive non-null values as [index, value] pairs. */
function segments(values: (number | null)[]): [number, number][][] {
  const out: [number, number][][] = [];
  let run: [number, number][] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (run.length > 0) out.push(run);
      run = [];
    } else run.push([i, v]);
  });
  if (run.length > 0) out.push(run);
  return out;
}

function linearScale(values: number[]) {
  const max = niceMax(Math.max(0, ...values));
  return { scale: (v: number) => PLOT.bottom - ((PLOT.bottom - PLOT.top) * v) / max, ticks: countTicks(max) };
}

/** Durations from 100 ms up, on a log scale with round ticks. */
const DURATION_TICKS = [100, 1_000, 10_000, 60_000, 600_000, 3_600_000, 21_600_000, 86_400_000, 604_800_000];
function logScale(values: number[]) {
  const top = DURATION_TICKS.find((t) => t >= Math.max(1_000, ...values)) ?? DURATION_TICKS.at(-1)!;
  const ticks = DURATION_TICKS.filter((t) => t <= top);
  const lo = Math.log10(DURATION_TICKS[0]!);
  const hi = Math.log10(top);
  const scale = (v: number) => PLOT.bottom - ((PLOT.bottom - PLOT.top) * (Math.log10(Math.max(v, DURATION_TICKS[0]!)) - lo)) / (hi - lo);
  return { scale, ticks };
}

/** A duration in ms as people read it: `250 ms`, `4.2 s`, `3 min`, `2 h`, `1.5 d`. */
export function duration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${+(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${+(ms / 60_000).toFixed(1)} min`;
  if (ms < 86_400_000) return `${+(ms / 3_600_000).toFixed(1)} h`;
  return `${+(ms / 86_400_000).toFixed(1)} d`;
}
