import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../errors";
import type { DeliveryFormat } from "../ledger/event";
import { log } from "../log";

/** Stripe events are far smaller; a larger body is not from Stripe. */
const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Refuses a body over `MAX_BODY_BYTES` with 413 `payload_too_large` before the route reads it:
 * a declared Content-Length over the limit without reading, a chunked body as soon as it passes
 * the limit (Hono's bodyLimit buffers it up to the limit and hands the route the same bytes).
 * `format` is the route's delivery format, for the delivery log line written in the route's place.
 *
 * @example
 * app.post("/stripe", limitBody("snapshot"), async (c) => verify(await c.req.text()));
 */
export function limitBody(format: DeliveryFormat): MiddlewareHandler {
  return bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      // The route never runs, so its delivery line is written here.
      log("warn", "delivery", { event_id: null, type: null, format, outcome: "payload_too_large", duration_ms: 0 });
      throw new ApiError(
        "payload_too_large",
        `The request body is over ${MAX_BODY_BYTES / 1024 / 1024} MiB. ` +
          "Stripe events are much smaller, so this request did not come from Stripe.",
      );
    },
  });
}
