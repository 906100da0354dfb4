// (c) The bare receiver: verifies the HMAC with WebCrypto, reads the event id and answers. No
// storage and no queue, so (b) minus (c) is what recording the event costs.
import { reject, verifyStripeSignature } from "./hmac.mjs";

export default {
  async fetch(request, env) {
    if (request.method !== "POST" || new URL(request.url).pathname !== "/webhooks/stripe") return reject("not_found", 404);
    const body = await request.text();
    const verdict = await verifyStripeSignature(
      body,
      request.headers.get("stripe-signature"),
      env.STRIPE_WEBHOOK_SECRET.split(","),
      Number(env.STRIPE_WEBHOOK_TOLERANCE_SECONDS),
      Math.floor(Date.now() / 1000),
    );
    if (!verdict.ok) return reject(verdict.code);
    let event;
    try {
      event = JSON.parse(body);
    } catch {
      return reject("payload_invalid");
    }
    return Response.json({ received: true, id: event.id, duplicate: false });
  },
};
