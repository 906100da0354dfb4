import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "hono/utils/buffer";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";

/** The console's session cookie: an HMAC of the token, never the token itself. */
export const SESSION_COOKIE = "admin_session";

const encoder = new TextEncoder();

/**
 * The session value for a token. Deterministic so that no session store is needed, and derived from
 * the token so that rotating ADMIN_TOKEN signs every browser out.
 */
export async function sessionValue(token: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(token), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode("stripe-webhooks admin console session v1"));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The app's own 404 (app.ts) while ADMIN_TOKEN is unset, so a disabled console does not announce itself. */
export const requireEnabled = createMiddleware<AppEnv>(async (c, next) => {
  if (c.var.config.adminToken === null) return c.notFound();
  await next();
});

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` or 401. Hono's timingSafeEqual (used for every secret here)
 * compares SHA-256 digests and then the strings without stopping at the first difference, so the time
 * does not depend on where a guess goes wrong (at most the token's length could show). Not
 * bearerAuth(): it answers a malformed header 400 and refuses tokens outside its character set, where
 * one 401 explains every case.
 */
export const requireBearer = createMiddleware<AppEnv>(async (c, next) => {
  const presented = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim() ?? "";
  if (!(await timingSafeEqual(presented, c.var.config.adminToken!))) {
    throw new ApiError(
      "unauthorized",
      "The admin API needs the header `Authorization: Bearer <ADMIN_TOKEN>` with the token set by `wrangler secret put ADMIN_TOKEN`.",
    );
  }
  await next();
});

/** Whether the request carries the console's session cookie for the current token. */
export async function hasSession(c: Context<AppEnv>): Promise<boolean> {
  const token = c.var.config.adminToken;
  const cookie = getCookie(c, SESSION_COOKIE);
  return token !== null && cookie !== undefined && (await timingSafeEqual(cookie, await sessionValue(token)));
}

/** A state-changing console form needs the session; answered with the JSON envelope like any API error. */
export const requireSession = createMiddleware<AppEnv>(async (c, next) => {
  if (!(await hasSession(c)))
    throw new ApiError("unauthorized", "Sign in at /admin first: this action needs the console's session cookie.");
  await next();
});

/** A console page needs the session; without one the browser is sent to the sign-in form. */
export const requirePageSession = createMiddleware<AppEnv>(async (c, next) => {
  if (!(await hasSession(c))) return c.redirect("/admin", 303);
  await next();
});
