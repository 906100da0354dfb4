// Names a D1 statement by what it does, from the SQL text the counting wrapper saw: the ledger's own
// statements by their step in the status machine (src/ledger/status.ts), anything else by verb and table.

// The ledger's statements, told apart by the columns they set (Drizzle writes them in schema order).
const LEDGER = [
  [/^insert into "stripe_events"/, "insert stripe_events (the delivery)"],
  [/^update "stripe_events" set "status" = \?, "attempts"/, "claim (update stripe_events → processing)"],
  [
    /^update "stripe_events" set "status" = \?, "lease_until" = \?, "redrive_at" = \?, "last_error" = \?, "processed_at"/,
    "finish (update stripe_events → processed/ignored)",
  ],
  [/^update "stripe_events" set "status" = \?, "last_error"/, "fail (update stripe_events → failed)"],
  [/^update "stripe_events" set "redrive_at" = \? \+/, "re-drive (update stripe_events: take due rows)"],
  [
    /^update "stripe_events" set "redrive_at" = \? where \("stripe_events"\."seq" in/,
    "sweep (update stripe_events: unfinished past the grace)",
  ],
  [/^update "stripe_events" set "redrive_at" = \? where \("stripe_events"\."id" in/, "send failed (update stripe_events: due now)"],
  [/^select max\(seq\) from \(select "seq" from "stripe_events"/, "sweep position (select max seq)"],
  [/^delete from "stripe_events"/, "retention (delete stripe_events)"],
  [/^DELETE FROM "stripe_events"/, "archive: delete the part's rows (stripe_events)"],
  [/^INSERT INTO ledger_hours \(hour, arrivals/, "sweep: count arrivals (ledger_hours)"],
  [/^INSERT INTO ledger_hours \(hour, failed_total/, "sample failed/dead totals (ledger_hours)"],
  [/^INSERT INTO ledger_hours/, "count the move (upsert ledger_hours)"],
  [/^INSERT INTO job_state/, "sweep position (upsert job_state)"],
  [/^INSERT INTO "archive_index"/, "archive: id fingerprints (insert archive_index)"],
  [/^insert into "archive_parts"/, "archive: begin a part (insert archive_parts)"],
  [/^update "archive_parts" set "state" = \?, "events"/, "archive: commit a part (update archive_parts)"],
  [/^update "archive_parts"/, "archive: part listed (update archive_parts)"],
];

/**
 * A short, stable label for a statement: "claim (update stripe_events → processing)", "upsert
 * checkout_sessions", "select invoices" …
 *
 * @example
 * classify('insert into "customers" (…) values (…) on conflict ("customers"."id") do update set …'); // "upsert customers"
 */
export function classify(sql) {
  const text = sql.trim().replace(/\s+/g, " ");
  for (const [pattern, label] of LEDGER) if (pattern.test(text)) return label;
  const table = text.match(/^(?:insert into|update|delete from) "(\w+)"/)?.[1] ?? text.match(/ from "(\w+)"/)?.[1] ?? "?";
  const verb = text.split(" ")[0].toLowerCase();
  if (verb === "insert") return /on conflict .* do update/.test(text) ? `upsert ${table}` : `insert ${table}`;
  return `${verb} ${table}`;
}
