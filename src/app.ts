import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { readConfig } from "./config";
import { ApiError, fromHttpException } from "./errors";
import type { Handlers } from "./handlers/registry";
import type { AppEnv } from "./http/app-env";
import { errorName, log } from "./log";
import { adminRoutes } from "./routes/admin";
import { healthRoutes } from "./routes/health";
import { webhookRoutes } from "./routes/webhooks";

export interface AppOptions {
  /** Current time in milliseconds. Tests inject a fixed clock to verify captured deliveries. */
  now?: () => number;
  /** The registered handlers: the endpoint drift check compares the event types they handle. */
  handlers: Handlers;
}

/**
 * The HTTP side of the Worker. Every non-2xx leaves through `onError` or `notFound` as
 * `{"error":{"code","message"}}`.
 *
 * @example
 * const app = createApp({ now: () => 1591264652_000, handlers: defaultHandlers() });
 * const res = await app.fetch(request, env, ctx);
 */
export function createApp(options: AppOptions) {
  const now = options.now ?? Date.now;
  return new Hono<AppEnv>()
    .use(async (c, next) => {
      c.set("now", now);
      c.set("handlers", options.handlers);
      c.set("config", readConfig(c.env));
      await next();
    })
    .route("/webhooks", webhookRoutes)
    .route("/health", healthRoutes)
    .route("/admin", adminRoutes)
    .notFound((c) =>
      c.json(
        new ApiError(
          "not_found",
          `Nothing is served at ${c.req.method} ${new URL(c.req.url).pathname}. ` +
            "Stripe should post to /webhooks/stripe (webhook endpoints, snapshot events) or /webhooks/stripe/thin " +
            "(event destinations with thin payloads); health is at GET /health.",
        ).toEnvelope(),
        404,
      ),
    )
    .onError((err, c) => {
      if (err instanceof ApiError) return err.getResponse();
      // Hono's middleware (csrf(), bodyLimit(), …) refuses requests with a plain HTTPException.
      if (err instanceof HTTPException && err.status < 500) return fromHttpException(err).getResponse();
      const status = err instanceof HTTPException ? err.status : undefined;
      log("error", "unhandled_error", { path: new URL(c.req.url).pathname, error: errorName(err), status });
      return new ApiError(
        "internal_error",
        "An unexpected error occurred; it has been logged. If this was a Stripe delivery, Stripe will retry it.",
      ).getResponse();
    });
}
