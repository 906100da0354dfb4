// (d) The Node stack Stripe's guides show: Express, `stripe.webhooks.constructEvent` on the raw
// body, and an idempotency insert into SQLite (node:sqlite, no native build) with the same table
// as the Worker (the project's migrations). It answers after the insert; it has no queue, so it
// does less than (a) and (b). Run as a child process by bench/run.mjs:
//   BENCH_PORT=8803 BENCH_DB=/tmp/x.sqlite BENCH_SECRET=whsec_… node bench/node/express-receiver.mjs
import { readdirSync, readFileSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import express from "express";
import Stripe from "stripe";

const MIGRATIONS = new URL("../../migrations/", import.meta.url);
const stripe = new Stripe("sk_test_bench_offline_never_used_for_api_calls");
const secret = process.env.BENCH_SECRET;

const db = new DatabaseSync(process.env.BENCH_DB);
// What a production Node service would set; without WAL every insert waits for a journal fsync.
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
for (const file of readdirSync(MIGRATIONS)
  .filter((f) => f.endsWith(".sql"))
  .sort()) {
  for (const statement of readFileSync(new URL(file, MIGRATIONS), "utf8").split("--> statement-breakpoint")) {
    if (statement.trim()) db.exec(statement);
  }
}
const insert =
  db.prepare(`INSERT INTO stripe_events (id, type, api_version, livemode, account, created, received_at, status, secret_index, payload)
VALUES (?, ?, ?, ?, ?, ?, ?, 'received', 0, ?) ON CONFLICT (id) DO NOTHING RETURNING id`);

const app = express();
app.post("/webhooks/stripe", express.raw({ type: "application/json", limit: "1mb" }), (req, res) => {
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers["stripe-signature"], secret);
  } catch {
    res.status(400).json({ error: { code: "signature_invalid", message: "signature_invalid" } });
    return;
  }
  const row = insert.get(
    event.id,
    event.type,
    event.api_version ?? null,
    event.livemode ? 1 : 0,
    event.account ?? null,
    event.created,
    Date.now(),
    req.body.toString("utf8"),
  );
  res.json({ received: true, id: event.id, duplicate: row === undefined });
});

const server = app.listen(Number(process.env.BENCH_PORT), "127.0.0.1", () => process.send?.({ ready: true }));
process.on("message", (msg) => {
  if (msg === "stop") server.close(() => process.exit(0));
});
