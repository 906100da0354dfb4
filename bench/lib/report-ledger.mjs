// The ledger's sections of bench/RESULTS.md: D1 work per event (by statement and phase), bytes
// stored per event, the ingest ramp and what they mean for one database's life.
import { D1_LIMIT_BYTES } from "./capacity.mjs";
import { fmt } from "./measure.mjs";
import { sumPhases, wholeLife, wholeLifeWithRetention } from "./ops.mjs";
import { KNEE_MIN_GAIN, KNEE_P99_FACTOR } from "./ramp.mjs";

const PHASE_NAMES = { ack: "before the answer", after_ack: "in waitUntil", consumer: "consumer", cron: "cron" };
/** Issue 9's budget: rows written over a checkout.session.completed's life, consumer and projection included. */
export const ROWS_WRITTEN_TARGET = { type: "checkout.session.completed", max: 8 };

export function renderOps(ops) {
  const columns = [...ops.types.map((type) => [type, ops.perType[type].newEvent]), ["**mix average**", ops.mix.newEvent]];
  const header = (first) => [`| ${first} | ${columns.map(([name]) => name).join(" | ")} |`, `| --- |${" ---: |".repeat(columns.length)}`];
  const cells = (value) => columns.map(([, perEvent]) => value(perEvent)).join(" | ");
  const retention = ops.retention.perPrunedRow;

  // Every (phase, statement) that wrote or ran for some type, in phase order, biggest writers first.
  const keys = [];
  for (const phase of ["ack", "after_ack", "consumer"]) {
    const labels = new Set(columns.flatMap(([, p]) => Object.keys(p[phase].statements)));
    const written = (label) => ops.mix.newEvent[phase].statements[label]?.rows_written ?? 0;
    keys.push(...[...labels].sort((x, y) => written(y) - written(x)).map((label) => [phase, label]));
  }
  const statementCell = (s) => (s ? `${fmt(s.rows_written, 2)} (${fmt(s.count, 2)})` : "–");
  const retentionLabels = Object.entries(retention.statements).sort((x, y) => y[1].rows_written - x[1].rows_written);

  const total = (label, pick) => `| ${label} | ${cells((p) => fmt(pick(p).d1_rows_written, 1))} |`;
  const retentionTotal = (p) => wholeLifeWithRetention(p, ops.retention);
  const target = ops.perType[ROWS_WRITTEN_TARGET.type].newEvent;
  const ops1 = (label, o) =>
    `| ${label} | ${fmt(o.d1_statements, 2)} | ${fmt(o.d1_round_trips, 2)} | ${fmt(o.d1_rows_read, 1)} | ` +
    `${fmt(o.d1_rows_written, 1)} | ${fmt(o.queue_messages_sent, 2)} | ${fmt(o.queue_messages_delivered, 2)} | ` +
    `${fmt(o.queue_acks, 2)} |`;
  const mix = ops.mix;
  return [
    "## D1 and Queue operations per event",
    "",
    "Counted, not estimated: the deployed bundle ran inside `bench/workers/counting.mjs`, " +
      "which wraps the `DB` and `EVENTS_QUEUE` bindings, the queue batch and the scheduled handler, " +
      "and records every statement's SQL with the rows D1 itself reports in `meta` " +
      "(`rows_written` counts every table row and index entry a statement changes). " +
      `For each event type (the mix's, then the catalogue's and the Entitlements summary, counted beside the mix), ` +
      `${ops.count} new events were sent one at a time and drained (all ${ops.final.final} final: ` +
      `${JSON.stringify(ops.final.counts)}), then the same ${ops.count} again as duplicates. ` +
      "The statements are named by `bench/lib/statements.mjs` from their SQL. " +
      '"before the answer" = work the 2xx waits for; "in waitUntil" = work handed to `ctx.waitUntil`; ' +
      '"consumer" = the queue handler.',
    "",
    `Retention: the Worker's clock cannot be moved, so every counted row was made ${ops.retention.shiftDays} days old instead ` +
      "(`seq` and `received_at` moved back through the host's own D1 connection, not counted), " +
      `then the Worker's \`scheduled\` handler ran once (outcome \`${ops.retention.outcome}\`): ` +
      `it pruned ${ops.retention.pruned} of the ${ops.retention.rows} rows (the newest row is always kept, ` +
      "so that `seq` never goes back). Its figures below are per pruned row and apply to every type alike.",
    "",
    "### D1 rows written per new event, by statement",
    "",
    "Each cell: rows written per event (statements per event). A statement that serves a whole consumer batch counts a fraction per event.",
    "",
    ...header("statement (phase)"),
    ...keys.map(([phase, label]) => `| ${label} (${PHASE_NAMES[phase]}) | ${cells((p) => statementCell(p[phase].statements[label]))} |`),
    ...retentionLabels.map(([label, s]) => `| ${label} (cron, per pruned row) | ${cells(() => statementCell(s))} |`),
    "",
    "### Totals per new event",
    "",
    ...header("D1 rows written"),
    total("request path (before the answer + in waitUntil)", (p) => sumPhases(p, ["ack", "after_ack"])),
    total("consumer (claim, projection, finish)", (p) => sumPhases(p, ["consumer"])),
    total("**whole life: request + consumer**", wholeLife),
    `| cron run that prunes it (per pruned row) | ${cells(() => fmt(retention.d1_rows_written, 1))} |`,
    total("**whole life incl. retention**", retentionTotal),
    `| D1 rows read, whole life incl. retention | ${cells((p) => fmt(retentionTotal(p).d1_rows_read, 1))} |`,
    "",
    `${ROWS_WRITTEN_TARGET.type}: **${fmt(wholeLife(target).d1_rows_written, 1)}** rows written over its life (issue 9's budget: ` +
      `≤ ${ROWS_WRITTEN_TARGET.max}), **${fmt(retentionTotal(target).d1_rows_written, 1)}** with the retention delete. ` +
      "The bench's sessions are Stripe's example (unpaid) and the deployed Worker registers no `fulfil()` hook, " +
      "so no `fulfilments` row is written; a Worker with a hook adds, per paid object, " +
      "the fulfilment's claim and done mark and the hook's own writes (not counted here).",
    "",
    "### Per phase (mix average)",
    "",
    "| per event | D1 statements | D1 round trips | D1 rows read | D1 rows written | Queue messages sent | messages delivered | acks |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ops1("new: before the answer", mix.newEvent.ack),
    ops1("new: in waitUntil", mix.newEvent.after_ack),
    ops1("new: consumer", mix.newEvent.consumer),
    ops1("**new: whole life**", wholeLife(mix.newEvent)),
    ops1("cron run that prunes it (per pruned row)", retention),
    ops1("**new: whole life incl. retention**", wholeLifeWithRetention(mix.newEvent, ops.retention)),
    ops1("duplicate: before the answer", mix.duplicate.ack),
    ops1("**duplicate: total**", wholeLife(mix.duplicate)),
    "",
  ];
}

/**
 * Bytes per event: the ledger as received (consumers off, payloads as text), at its final size (events
 * ignored, compressed, no billing row), all in (the drain: final rows and billing rows), and the archive.
 */
export function renderStorage({ ledger, ledgerFinal, drained, archive }) {
  const projections = drained.perEvent - ledgerFinal.perEvent;
  return [
    "## Bytes stored per event",
    "",
    "D1's own figure for the database size (`meta.size_after`, the whole file: " +
      "tables, indexes and free pages) on a fresh database before and after the run, divided by the events it recorded. " +
      "Local D1 is SQLite with 4 KiB pages, as in production; the events are the bench mix built from Stripe's example objects, " +
      "so real payloads (and bytes per event) vary with your events. The statement that makes an event final stores its " +
      "payload gzip (`payload_encoding`), so a row is at its final size once processed; rows still waiting hold the text as received.",
    "",
    "| | events | size before → after | bytes per event |",
    "| --- | ---: | ---: | ---: |",
    "| ledger as received (the ingest ramp of (a), consumers off: rows `received`, payload as text; " +
      `average payload ${fmt(ledger.payloadBytes, 0)} bytes) | ${ledger.events} | ` +
      `${kib(ledger.sizeBefore)} → ${kib(ledger.sizeAfter)} | ${fmt(ledger.perEvent, 0)} |`,
    "| ledger at its final size (events no handler wants: `ignored`, compressed, no billing row; " +
      `average stored payload ${fmt(ledgerFinal.payloadBytes, 0)} bytes) | ${ledgerFinal.events} | ` +
      `${kib(ledgerFinal.sizeBefore)} → ${kib(ledgerFinal.sizeAfter)} | ${fmt(ledgerFinal.perEvent, 0)} |`,
    `| **all in**: ledger + projections (the drain, every row processed and compressed, each event a new object in its ` +
      `billing table) | ${drained.events} | ${kib(drained.sizeBefore)} → ${kib(drained.sizeAfter)} | **${fmt(drained.perEvent, 0)}** |`,
    `| … billing tables (difference) | | | ${fmt(projections, 0)} |`,
    `| the archive in R2: gzip JSON Lines, parts of one hour and their manifests (${archive.events} events in ` +
      `${archive.parts} parts, ${archive.objects} objects) | | ${kib(archive.r2Bytes)} | ${fmt(archive.perEvent, 0)} |`,
    `| the archive's catalogue left in D1 (parts and id fingerprints, ${archive.indexRows} index rows), growing with the history | | | ` +
      `≈ ${fmt(archive.indexBytesPerEvent, 1)} |`,
    "",
    `The archive's run, counted by the wrapper: per archived event ${fmt(archive.cron.d1_rows_written, 3)} D1 rows written ` +
      `(the delete, and the part's catalogue rows and fingerprints), ${fmt(archive.cron.d1_rows_read, 1)} rows read, ` +
      `${fmt(archive.cron.r2_class_a, 4)} R2 Class A operations (the part and its hour's manifest), ` +
      `${fmt(archive.cron.r2_class_b, 4)} Class B. The bench's events are Stripe's example objects with new ids, far more alike ` +
      "than real events, so a part compresses them far better than real ones: the R2 bytes above are a floor; the average " +
      `stored payload of a final row (${fmt(ledgerFinal.payloadBytes, 0)} bytes, each event compressed alone) is a ceiling for a ` +
      "part's bytes per event.",
    "",
    "Before issue 20 (bench/RESULTS.md of 2026-11-29) every row kept its payload as text: 4,183 bytes per event for the ledger " +
      "and 4,336 all in.",
    "",
  ];
}

/** The ramp of (a) and of the floor (b), side by side, with each one's knee. */
export function renderRamp(ramp) {
  const step = (r, i) => {
    const s = r.steps[i];
    return (
      `${fmt(s.perSecond, 0)}${s.concurrency === r.knee.concurrency ? " (knee)" : ""} | ${fmt(s.p50)} | ` +
      `${fmt(s.p99)}${s.failures ? ` (${s.failures} unexpected answers)` : ""}`
    );
  };
  const knee = (name, r) => {
    const k = r.knee;
    const why =
      k.next === null
        ? "no step degraded"
        : `at ${k.next} connections ` +
          (k.stoppedBy === "p99"
            ? `p99 passed ${KNEE_P99_FACTOR}× the one-connection p99`
            : `throughput rose by less than ${KNEE_MIN_GAIN * 100} %`);
    return (
      `- ${name}: **${fmt(k.perSecond, 0)} new events/s** sustained, at ${k.concurrency} connection(s) with p99 ${fmt(k.p99)} ms ` +
      `(${why}); highest throughput at any latency ${fmt(Math.max(...r.steps.map((s) => s.perSecond)), 0)}/s.`
    );
  };
  return [
    "## Ingest ramp: what one local D1 sustains",
    "",
    `New deliveries with the consumers off, ${ramp.a.count} per step after a 300-delivery warm-up, ` +
      "each target on its own fresh local D1, at a rising number of keep-alive connections (closed loop: " +
      "a connection sends its next delivery when the answer arrives). " +
      `The knee is the last step before the first one whose p99 exceeds ${KNEE_P99_FACTOR}× the p99 at one connection or whose ` +
      `throughput rose by less than ${KNEE_MIN_GAIN * 100} % over the step before; its throughput is the sustained rate. ` +
      "Local workerd runs the Worker, its D1 and its queue on this machine's CPUs, " +
      "so these are rates of the whole local stack on this machine; " +
      "the floor (b) runs the least code a receiver can, so where (a) stays below it, " +
      "this Worker's own code is the limit rather than D1. Cloudflare's published ceiling for one production D1 is about 1,000 " +
      "simple queries/s (single-threaded).",
    "",
    "| connections | (a) deliveries/s | (a) p50 ms | (a) p99 ms | (b) deliveries/s | (b) p50 ms | (b) p99 ms |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...ramp.a.steps.map((s, i) => `| ${s.concurrency} | ${step(ramp.a, i)} | ${step(ramp.b, i)} |`),
    "",
    knee("(a) this Worker", ramp.a),
    knee("(b) floor receiver", ramp.b),
    "",
  ];
}

export function renderCapacity(c) {
  const years = (d) => (Number.isFinite(d) ? `${fmt(d / 365.25, 1)} years` : "never");
  const months = (m) => (Number.isFinite(m) ? (m < 1 ? "does not fit" : `${fmt(m, 0)} months`) : "never");
  const m = (n) => `${fmt(n / 1e6, 1)}M`;
  return [
    "## How long one database lasts",
    "",
    `From the bytes per event above, until the database reaches D1's ${fmt(D1_LIMIT_BYTES / 1e9, 0)} GB ` +
      "(after which D1 refuses every write and every delivery would be answered 500). With retention the ledger's steady state " +
      "is the retention's window of final rows (SQLite reuses the pages deleted rows free, so the file stops growing there); " +
      `what keeps growing is the billing tables (${fmt(c.projectionBytes, 0)} bytes per event, an upper bound: in the bench every ` +
      `event brings a new object) and, with the archive, its catalogue (≈ ${fmt(c.growthBytes, 1)} bytes per event).`,
    "",
    "| events a month one database holds at steady state | |",
    "| --- | ---: |",
    `| before issue 20: payloads as text, 30 days | ${m(c.held.before)} |`,
    `| compressed payloads, 30 days (no ARCHIVE bucket) | ${m(c.held.withoutArchive)} |`,
    `| compressed payloads, ${c.retentionDays} hot days + the archive (the ledger alone) | ${m(c.held.withArchive)} |`,
    `| … all in (billing rows counted as if they lasted only the ${c.retentionDays} days: the conservative figure) | ` +
      `**${m(c.held.withArchiveAllIn)}** |`,
    "",
    "Months until 10 GB from an empty database. The billing tables grow with new objects, not with events (most events update an " +
      "object that exists), so each setting has two columns: the ledger (and the archive's catalogue) alone, and the worst case, " +
      'every event a new object. "Does not fit": the retention window alone is more than 10 GB at that rate ' +
      `(${c.retentionDays} days of 30M events a month: ${fmt(((30e6 / (365.25 / 12)) * c.retentionDays * c.ledgerBytes) / 1e9, 1)} GB; ` +
      "4 days fit).",
    "",
    "| events a month | 30 days, no archive | … every event a new object | " +
      `${c.retentionDays} days + archive | … every event a new object |`,
    "| ---: | ---: | ---: | ---: | ---: |",
    ...c.months.map(
      (r) =>
        `| ${m(r.eventsPerMonth)} | ${months(r.withoutArchive)} | ${months(r.withoutArchiveWorst)} | ` +
        `${months(r.withArchive)} | ${months(r.withArchiveWorst)} |`,
    ),
    "",
    `At 1,000,000 events a month (${fmt(c.eventsPerDay, 0)} a day): with retention off ` +
      `(\`LEDGER_RETENTION_DAYS=0\`, ${fmt(c.ledgerBytes + c.projectionBytes, 0)} bytes per event kept for ever) the database ` +
      `is full after ${years(c.retentionOff)}; with ${c.retentionDays} days and the archive, after ${years(c.withRetention)}. ` +
      "`failed` and `dead` rows are kept too (none here).",
    "",
  ];
}

const kib = (bytes) => `${fmt(bytes / 1024, 0)} KiB`;
