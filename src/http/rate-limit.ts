import { createMiddleware } from "hono/factory";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/app-env";
import { log } from "../log";

/** A `[[ratelimits]]` binding and its `simple` limit; the numbers repeat wrangler.toml's for the 429 message. */
export interface Limit {
  binding: "ADMIN_SIGNIN_LIMITER" | "ADMIN_API_LIMITER";
  limit: number;
  periodSeconds: number;
  /** What is counted, as the message says it. */
  counted: string;
}

export const SIGNIN_LIMIT: Limit = { binding: "ADMIN_SIGNIN_LIMITER", limit: 5, periodSeconds: 60, counted: "sign-in attempts" };
export const API_LIMIT: Limit = { binding: "ADMIN_API_LIMITER", limit: 120, periodSeconds: 60, counted: "admin API requests" };

/**
 * Counts the request against its client IP and answers 429 `rate_limited` with Retry-After once that
 * IP is over the limit, before any token is compared.
 *
 * Every attempt counts, the right token's too. The binding's only call, `limit()`, checks and counts
 * in one step: it cannot look without counting, nor give a count back. Counting only failures would
 * therefore mean asking it only after a failure, and a limited client could go on testing guesses and
 * recognise the right one by its 200: the limit would slow no one.
 *
 * @example
 * routes.post("/login", rateLimit(SIGNIN_LIMIT), signIn);
 */
export function rateLimit(l: Limit) {
  return createMiddleware<AppEnv>(async (c, next) => {
    // Cloudflare sets CF-Connecting-IP on every request from the internet, replacing any the client
    // sent. A request without one shares a single bucket rather than going unlimited.
    const key = c.req.header("cf-connecting-ip") ?? "no-client-ip";
    if (!(await c.env[l.binding].limit({ key })).success) {
      log("warn", "admin_rate_limited", { limiter: l.binding });
      const wait = String(l.periodSeconds);
      throw new ApiError(
        "rate_limited",
        `Too many ${l.counted} from this address: at most ${l.limit} per ${wait} s per client IP. ` +
          `Wait ${wait} seconds (Retry-After) and try again.`,
        { headers: { "Retry-After": wait } },
      );
    }
    await next();
  });
}
