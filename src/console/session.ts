import type { Context } from "hono";
import { deleteCookie, getSignedCookie, setSignedCookie } from "hono/cookie";
import { createMiddleware } from "hono/factory";
import { isLoopback } from "../config/api-base";
import { endAllSessions, endSession, SESSION_LIFETIME_MS, startSession, touchSession } from "../db/admin";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/app-env";

// The console's sessions. Browsers cannot send a Bearer header on navigation, so the token is posted
// once and exchanged for a cookie that carries a random session id and its issue time, signed with
// Hono's signed-cookie helpers under a key derived from ADMIN_TOKEN: rotating the token signs every
// browser out. Each session is also a row in D1 (src/db/admin.ts), which is what lets it end on the
// server: after 8 hours, after 30 idle minutes, at sign-out (a copied cookie stops working with it),
// or for everyone at once.

const COOKIE = "admin_session";
const encoder = new TextEncoder();

/**
 * How the cookie is sent: `__Host-` prefixed and Secure (HTTPS only, this host only, path /), except
 * to a loopback address over plain http (`wrangler dev`), where a Secure cookie would never come back.
 */
function cookieOptions(c: Context<AppEnv>): { prefix?: "host" } {
  return plainLoopback(c) ? {} : { prefix: "host" };
}

function plainLoopback(c: Context<AppEnv>): boolean {
  const url = new URL(c.req.url);
  return url.protocol === "http:" && isLoopback(url.hostname);
}

/** The key cookies are signed with: derived from the token, so a new token invalidates every cookie. */
async function signingKey(token: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(token), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode("stripe-webhooks admin console session v2"));
  return [...new Uint8Array(mac)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The request's live session id, or null: no cookie, a bad signature, or a session that ended. Marks a live one used. */
export async function currentSession(c: Context<AppEnv>): Promise<string | null> {
  const { config, db, now } = c.var.deps;
  if (config.adminToken === null) return null;
  const options = cookieOptions(c);
  const value = await getSignedCookie(c, await signingKey(config.adminToken), COOKIE, options.prefix);
  const match = typeof value === "string" ? /^([0-9a-f]{32})\.(\d{1,16})$/.exec(value) : null;
  if (!match) return null;
  const [, id, issuedAt] = match;
  return (await touchSession(db, id!, Number(issuedAt), now())) ? id! : null;
}

/**
 * Starts a session for a browser that proved it knows the token. Refused over plain http except to a
 * loopback address: the token and the cookie would cross the network in the clear.
 *
 * @example
 * if (await timingSafeEqual(posted, token)) await signIn(c);
 */
export async function signIn(c: Context<AppEnv>): Promise<void> {
  const url = new URL(c.req.url);
  if (url.protocol !== "https:" && !plainLoopback(c)) {
    throw new ApiError(
      "forbidden",
      "The console signs in over HTTPS only (plain http only on a loopback address, as with wrangler dev): " +
        "the token and the session cookie would otherwise cross the network in the clear. Open this page with https://.",
    );
  }
  const { config, db, now } = c.var.deps;
  const id = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const issuedAt = now();
  await startSession(db, id, issuedAt);
  await setSignedCookie(c, COOKIE, `${id}.${issuedAt}`, await signingKey(config.adminToken!), {
    ...cookieOptions(c),
    httpOnly: true,
    secure: !plainLoopback(c),
    sameSite: "Strict",
    path: "/",
    maxAge: SESSION_LIFETIME_MS / 1000,
  });
}

/** Ends this browser's session on the server (so a copy of its cookie stops working too) and deletes the cookie. */
export async function signOut(c: Context<AppEnv>): Promise<void> {
  const id = await currentSession(c);
  if (id !== null) await endSession(c.var.deps.db, id);
  deleteCookie(c, COOKIE, { ...cookieOptions(c), path: "/", secure: !plainLoopback(c) });
}

/** Ends every session, this one included. Returns how many there were. */
export async function signOutEverywhere(c: Context<AppEnv>): Promise<number> {
  const ended = await endAllSessions(c.var.deps.db);
  deleteCookie(c, COOKIE, { ...cookieOptions(c), path: "/", secure: !plainLoopback(c) });
  return ended;
}

/** A state-changing console form needs a live session; answered with the JSON envelope like any API error. */
export const requireSession = createMiddleware<AppEnv>(async (c, next) => {
  if ((await currentSession(c)) === null)
    throw new ApiError(
      "unauthorized",
      "Sign in at /admin first: this action needs a live console session (they end after 8 h, or 30 idle minutes).",
    );
  await next();
});

/** A console page needs a live session; without one the browser is sent to the sign-in form. */
export const requirePageSession = createMiddleware<AppEnv>(async (c, next) => {
  if ((await currentSession(c)) === null) return c.redirect("/admin", 303);
  await next();
});
