import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { consoleRoutes } from "./console";
import type { Deps } from "./deps";
import { ApiError, fromHttpException } from "./errors";
import type { AppEnv } from "./http/app-env";
import { errorName, log } from "./log";
import { adminApiRoutes } from "./routes/admin";
import { requireEnabled } from "./routes/admin/auth";
import { healthRoutes } from "./routes/health";
import { webhookRoutes } from "./routes/webhooks";

/**
 * The HTTP side of the Worker: the webhook routes, `/health`, and, while ADMIN_TOKEN is set, the admin
 * API and the console. `deps` builds a request's dependencies from its bindings (src/worker.ts); every
 * route reads them from `c.var.deps`. Every non-2xx leaves through `onError` or `notFound` as
 * `{"error":{"code","message"}}`.
 *
 * @example
 * const app = createApp((env) => createDeps(env, { handlers, now: Date.now }));
 * const res = await app.fetch(request, env, ctx);
 */
export function createApp(deps: (env: Env) => Deps) {
  return new Hono<AppEnv>()
    .use(async (c, next) => {
      c.set("deps", deps(c.env));
      await next();
    })
    .route("/webhooks", webhookRoutes)
    .route("/health", healthRoutes)
    .use("/admin/*", requireEnabled)
    .use("/admin", requireEnabled)
    .route("/admin/api", adminApiRoutes)
    .route("/admin", consoleRoutes)
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
