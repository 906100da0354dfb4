// (b) The floor receiver: only what any receiver that loses nothing must do, with no framework,
// SDK or ORM. Verify the HMAC with WebCrypto, record the event with its payload in one raw D1
// `INSERT … ON CONFLICT DO NOTHING RETURNING` (same table as the real Worker, same migrations),
// send the id to the Queue in waitUntil, answer. SQLite assigns `seq` (the rowid) and the column
// defaults fill status, attempts and source; `redrive_at` stays NULL, as the real Worker leaves it,
// so both insert the same row and index entries.
import { reject, verifyStripeSignature } from "./hmac.mjs";

const INSERT = `INSERT INTO stripe_events (id, type, api_version, livemode, account, created, received_at, secret_index, payload)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8) ON CONFLICT (id) DO NOTHING RETURNING seq`;

export default {
  async fetch(request, env, ctx) {
    if (request.method !== "POST" || new URL(request.url).pathname !== "/webhooks/stripe") return reject("not_found", 404);
    const body = await request.text();
    const now = Date.now();
    const verdict = await verifyStripeSignature(
      body,
      request.headers.get("stripe-signature"),
      env.STRIPE_WEBHOOK_SECRET.split(","),
      Number(env.STRIPE_WEBHOOK_TOLERANCE_SECONDS),
      Math.floor(now / 1000),
    );
    if (!verdict.ok) return reject(verdict.code);
    let event;
    try {
      event = JSON.parse(body);
    } catch {
      return reject("payload_invalid");
    }
    if (typeof event?.id !== "string" || typeof event.type !== "string") return reject("payload_invalid");
    let row;
    try {
      row = await env.DB.prepare(INSERT)
        .bind(event.id, event.type, event.api_version ?? null, event.livemode ? 1 : 0, event.account ?? null, event.created, now, body)
        .first();
    } catch {
      return reject("storage_unavailable", 500);
    }
    if (row !== null) ctx.waitUntil(env.EVENTS_QUEUE.send({ id: event.id }, { contentType: "json" }).catch(() => {}));
    return Response.json({ received: true, id: event.id, duplicate: row === null });
  },
};
