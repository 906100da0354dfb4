import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "hono/utils/buffer";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/app-env";

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

/** Whether the request carries the console's session cookie for the current token. */
export async function hasSession(c: Context<AppEnv>): Promise<boolean> {
  const token = c.var.deps.config.adminToken;
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
