import { Hono } from "hono";
import { checkEndpoint } from "../../endpoint-check/check";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";
import { requireStripeApi } from "../../stripe/api";

/**
 * `GET /admin/api/endpoint`: the endpoint drift check, now (the cron runs it daily): this Worker's
 * webhook endpoint(s) compared with the handled event types (`missing`: handled but not enabled,
 * `unhandled`: enabled without a handler), with `warnings` and `info` as /health shows them. The
 * result is saved, so /health and the console show it too. 502 `stripe_api_error` when Stripe's API
 * refuses or does not answer.
 */
export const endpointRoutes = new Hono<AppEnv>().get("/endpoint", async (c) => {
  const stripe = requireStripeApi(c.var.deps, "The endpoint check lists the account's webhook endpoints");
  const result = await checkEndpoint(c.var.deps, stripe);
  if (!result.ok) throw new ApiError("stripe_api_error", result.report.warnings[0]!);
  return c.json(result.report);
});
