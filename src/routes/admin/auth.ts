import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "hono/utils/buffer";
import { problemError, problemWith } from "../../config";
import { lockedUntil } from "../../db/admin";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";
import { clientKey, countAttempt, rateLimited, SIGNIN_LIMIT } from "../../http/rate-limit";
import { errorName, log } from "../../log";

/**
 * The app's own 404 (app.ts) while ADMIN_TOKEN is unset, so a disabled console does not announce
 * itself; 500 `config_invalid` while it is refused (shorter than 32 characters), saying how to set one.
 */
export const requireEnabled = createMiddleware<AppEnv>(async (c, next) => {
  const { config } = c.var.deps;
  const refused = problemWith(config, "ADMIN_TOKEN");
  if (refused) throw problemError(refused);
  if (config.adminToken === null) return c.notFound();
  await next();
});

/**
 * `Authorization: Bearer <ADMIN_TOKEN>` or 401. A wrong token counts against the strict sign-in limit
 * of its address (5 a minute); once that is spent the address is locked out for the minute, the right
 * token included, so guessing through the API is no faster than through the sign-in form. Hono's
 * timingSafeEqual (used for every secret here) compares SHA-256 digests and then the strings without
 * stopping at the first difference, so the time does not depend on where a guess goes wrong. Not
 * bearerAuth(): it answers a malformed header 400 and refuses tokens outside its character set, where
 * one 401 explains every case.
 */
export const requireBearer = createMiddleware<AppEnv>(async (c, next) => {
  const { db, now, config } = c.var.deps;
  // A D1 outage must not lock operators out of the API that reports it (GET /admin/api/health): the
  // lockout is then skipped, and the limiter binding still counts every wrong token.
  const locked = await lockedUntil(db, clientKey(c), now()).catch((err: unknown) => {
    log("error", "admin_lockout_unreadable", { error: errorName(err) });
    return null;
  });
  if (locked !== null) throw rateLimited(SIGNIN_LIMIT);
  const presented = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim() ?? "";
  if (!(await timingSafeEqual(presented, config.adminToken!))) {
    if (!(await countAttempt(c, SIGNIN_LIMIT))) throw rateLimited(SIGNIN_LIMIT);
    throw new ApiError(
      "unauthorized",
      "The admin API needs the header `Authorization: Bearer <ADMIN_TOKEN>` with the token set by `wrangler secret put ADMIN_TOKEN`.",
    );
  }
  await next();
});
