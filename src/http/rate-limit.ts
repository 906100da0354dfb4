import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { lockOut } from "../db/admin";
import { ApiError } from "../errors";
import { log } from "../log";
import type { AppEnv } from "./app-env";

/** A `[[ratelimits]]` binding and its `simple` limit; the numbers repeat wrangler.toml's for the 429 message. */
export interface Limit {
  binding: "ADMIN_SIGNIN_LIMITER" | "ADMIN_API_LIMITER";
  limit: number;
  periodSeconds: number;
  /** What is counted, as the message says it. */
  counted: string;
}

/** The strict limit on proving the token: every sign-in, and every admin API request with a wrong token. */
export const SIGNIN_LIMIT: Limit = {
  binding: "ADMIN_SIGNIN_LIMITER",
  limit: 5,
  periodSeconds: 60,
  counted: "sign-in attempts and wrong admin tokens",
};
export const API_LIMIT: Limit = { binding: "ADMIN_API_LIMITER", limit: 120, periodSeconds: 60, counted: "admin API requests" };

/**
 * The client address a limit counts: Cloudflare's CF-Connecting-IP (set on every request from the
 * internet, replacing any the client sent), an IPv6 client by its /64 (one subscriber's network: a
 * single host can use a whole /64, so counting addresses would let it rotate past any limit). A
 * request without one shares a single bucket rather than going unlimited.
 *
 * @example
 * clientKey(c); // "203.0.113.7", or "2001:db8:1:2::/64"
 */
export function clientKey(c: Context): string {
  const ip = c.req.header("cf-connecting-ip")?.trim();
  if (!ip) return "no-client-ip";
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === "" ? [] : tail.split(":");
  const groups = [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** The 429 for an address over `l`, with Retry-After. */
export function rateLimited(l: Limit): ApiError {
  const wait = String(l.periodSeconds);
  return new ApiError(
    "rate_limited",
    `Too many ${l.counted} from this address: at most ${l.limit} per ${wait} s per client IP. ` +
      `Wait ${wait} seconds (Retry-After) and try again.`,
    { headers: { "Retry-After": wait } },
  );
}

/**
 * Counts one attempt of the request's address against `l`; true while the address is within it.
 * When the strict sign-in limit is spent, the address is also locked out of the admin API for its
 * period (src/db/admin.ts says why the limiter alone cannot do that).
 */
export async function countAttempt(c: Context<AppEnv>, l: Limit): Promise<boolean> {
  const key = clientKey(c);
  if ((await c.env[l.binding].limit({ key })).success) return true;
  log("warn", "admin_rate_limited", { limiter: l.binding });
  const nowMs = c.var.deps.now();
  if (l === SIGNIN_LIMIT) await lockOut(c.var.deps.db, key, nowMs + l.periodSeconds * 1000, nowMs);
  return false;
}

/**
 * Counts the request against its client address and answers 429 `rate_limited` with Retry-After once
 * that address is over the limit, before any token is compared.
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
    if (!(await countAttempt(c, l))) throw rateLimited(l);
    await next();
  });
}
