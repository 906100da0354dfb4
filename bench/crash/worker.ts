// The Worker `npm run crash` runs under `wrangler dev` (bench/crash.mjs): the deployed Worker's
// handlers, plus one fulfilment hook per kind whose only effect is a row in `crash_effects`. The
// hook writes it with ctx.write, which commits together with the fulfilment's done mark, so a
// correct ledger leaves exactly one row per paid object however the process dies; two rows for one
// object would be a fulfilment that ran twice. The table has no key on purpose: it must be able to
// show a duplicate. bench/crash.mjs creates it after the migrations. Before its write the hook
// waits EFFECT_MS, standing in for what a real fulfilment spends (an email, an API call): without
// it a batch holds its claims for a few milliseconds only, and a kill would almost never find an
// event claimed or a fulfilment in flight, the cases this test is for.
//
//   GET /__crash/state?prefix=evt_… → { events: [{ id, status, attempts }], effects: [{ object_id, n }],
//     fulfilments: [{ status, n }] }
//   GET /__crash/claimed → { processing: n }, so the kill can wait for a consumer to hold a claim
// read what the crash test checks through the Worker's own D1 binding (one local database, one
// process using it).
import { integer, sqliteTable, text } from "drizzle-orm/sqlite-core";
import { defaultHandlers } from "../../src";
import type { FulfilmentKind } from "../../src/handlers/hooks";
import type { FulfilmentHook } from "../../src/handlers/registry";
import { createWorker } from "../../src/worker";

// Created by bench/crash.mjs (CRASH_EFFECTS_DDL there), not by the project's migrations.
const crashEffects = sqliteTable("crash_effects", {
  seq: integer().primaryKey(),
  kind: text().notNull(),
  objectId: text().notNull(),
  eventId: text().notNull(),
  at: integer().notNull(),
});

const EFFECT_MS = 10;

function recordEffect<K extends FulfilmentKind>(kind: K): FulfilmentHook<K> {
  return async (object, event, ctx) => {
    await new Promise((resolve) => setTimeout(resolve, EFFECT_MS));
    ctx.write(ctx.db.insert(crashEffects).values({ kind, objectId: object.id ?? "", eventId: event.id, at: ctx.nowMs }));
  };
}

const worker = createWorker({
  handlers: defaultHandlers()
    .fulfil("checkout_session.paid", recordEffect("checkout_session.paid"))
    .fulfil("invoice.paid", recordEffect("invoice.paid")),
});

export default {
  ...worker,
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/__crash/claimed") {
      return Response.json(await env.DB.prepare("SELECT count(*) AS processing FROM stripe_events WHERE status = 'processing'").first());
    }
    if (url.pathname !== "/__crash/state") return worker.fetch(request, env, ctx);
    const prefix = url.searchParams.get("prefix") ?? "";
    const [events, effects, fulfilments] = await env.DB.batch([
      env.DB.prepare("SELECT id, status, attempts FROM stripe_events WHERE substr(id, 1, length(?1)) = ?1").bind(prefix),
      env.DB.prepare("SELECT object_id, count(*) AS n FROM crash_effects GROUP BY object_id"),
      env.DB.prepare("SELECT status, count(*) AS n FROM fulfilments GROUP BY status"),
    ]);
    return Response.json({ events: events!.results, effects: effects!.results, fulfilments: fulfilments!.results });
  },
} satisfies ExportedHandler<Env, unknown>;
