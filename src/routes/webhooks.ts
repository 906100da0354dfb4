import { type Context, Hono, type MiddlewareHandler } from "hono";
import { deliveryProblem, problemError } from "../config";
import { WEBHOOK_PATH } from "../config/webhook-path";
import { recordEvent } from "../db/ledger/record";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/app-env";
import { limitBody } from "../http/read-body";
import type { DeliveryFormat } from "../ledger/event";
import { errorName, log } from "../log";
import { dispatch } from "../queue/enqueue";
import { verifyDelivery } from "../stripe/verify";

/**
 * Where each delivery format is posted. A Stripe webhook endpoint sends snapshot events and an event
 * destination with thin payloads sends thin ones, each to its own URL, so each format has its own
 * path: a delivery at the wrong one is refused (400 `payload_invalid`) with the URL to use instead.
 */
export const WEBHOOK_PATHS: Record<DeliveryFormat, string> = { snapshot: WEBHOOK_PATH, thin: `${WEBHOOK_PATH}/thin` };

/** The answer Stripe gets for an accepted delivery, new or duplicate. */
export interface Receipt {
  received: true;
  id: string;
  duplicate: boolean;
}

/**
 * `POST /webhooks/stripe` (snapshot events) and `POST /webhooks/stripe/thin` (thin events): verify,
 * record, acknowledge, then send the id to the queue in `waitUntil`. One D1 statement (the insert)
 * per delivery; the cron re-sends anything whose send was lost.
 */
export const webhookRoutes = new Hono<AppEnv>()
  .post("/stripe", requireSignature("snapshot"), limitBody("snapshot"), (c) => receive(c, "snapshot"))
  .post("/stripe/thin", requireSignature("thin"), limitBody("thin"), (c) => receive(c, "thin"))
  .all("/stripe", methodNotAllowed)
  .all("/stripe/thin", methodNotAllowed);

/**
 * Refuses a delivery without a `Stripe-Signature` header before its body is read (Stripe and
 * `stripe listen` always send one): 400 `signature_missing`, with the route's delivery log line.
 */
function requireSignature(format: DeliveryFormat): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if ((c.req.header("stripe-signature") ?? "").trim() !== "") return next();
    logDelivery(format, undefined, undefined, "signature_missing", 0, 0);
    throw new ApiError(
      "signature_missing",
      "The request has no Stripe-Signature header. Deliveries from Stripe and `stripe listen` always carry one; " +
        "a proxy in front of this Worker may be stripping it.",
    );
  };
}

function methodNotAllowed(): never {
  throw new ApiError("method_not_allowed", "Stripe delivers webhooks with POST. This route accepts nothing else.");
}

async function receive(c: Context<AppEnv>, format: DeliveryFormat): Promise<Response> {
  const { deps } = c.var;
  const started = deps.now();
  let eventId: string | undefined;
  let eventType: string | undefined;
  try {
    const payload = await c.req.text();
    const { config, db } = deps;
    const problem = deliveryProblem(config);
    if (problem) throw problemError(problem);

    const other: DeliveryFormat = format === "snapshot" ? "thin" : "snapshot";
    const { event, secretIndex } = await verifyDelivery({
      payload,
      header: c.req.header("stripe-signature") ?? null,
      secrets: config.webhookSecrets,
      toleranceSeconds: config.toleranceSeconds,
      nowMs: started,
      format,
      otherFormatUrl: () => new URL(WEBHOOK_PATHS[other], c.req.url).href,
    });
    eventId = event.id;
    eventType = event.type;

    let isNew: boolean;
    try {
      isNew = await recordEvent(db, event, { receivedAt: started, payload, source: "webhook", secretIndex });
    } catch (err) {
      log("error", "ledger_write_failed", { event_id: event.id, error: errorName(err) });
      throw new ApiError(
        "storage_unavailable",
        "The event could not be recorded in D1, so it was not accepted. " +
          "Stripe retries the delivery; check the D1 binding `DB` and that migrations are applied (the operator's health report, " +
          "GET /admin/api/health, says which).",
      );
    }

    // The queue send is the only work left after the answer; no D1 write follows it.
    if (isNew) c.executionCtx.waitUntil(dispatch(deps, [event.id]));
    logDelivery(format, eventId, eventType, isNew ? "accepted" : "duplicate", started, deps.now());
    return c.json({ received: true, id: event.id, duplicate: !isNew } satisfies Receipt);
  } catch (err) {
    const refused = err instanceof ApiError ? err : null;
    logDelivery(format, eventId, eventType, refused?.code ?? "internal_error", started, deps.now(), refused?.logFields);
    throw err;
  }
}

function logDelivery(
  format: DeliveryFormat,
  eventId: string | undefined,
  type: string | undefined,
  outcome: string,
  started: number,
  ended: number,
  details: Record<string, string | number | null> = {},
): void {
  log(outcome === "accepted" || outcome === "duplicate" ? "info" : "warn", "delivery", {
    event_id: eventId ?? null,
    type: type ?? null,
    format,
    outcome,
    duration_ms: ended - started,
    ...details,
  });
}
