import { createMiddleware } from "hono/factory";
import { timingSafeEqual } from "hono/utils/buffer";
import { problemError, problemWith } from "../../config";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";

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
 * `Authorization: Bearer <ADMIN_TOKEN>` or 401. Hono's timingSafeEqual (used for every secret here)
 * compares SHA-256 digests and then the strings without stopping at the first difference, so the time
 * does not depend on where a guess goes wrong (at most the token's length could show). Not
 * bearerAuth(): it answers a malformed header 400 and refuses tokens outside its character set, where
 * one 401 explains every case.
 */
export const requireBearer = createMiddleware<AppEnv>(async (c, next) => {
  const presented = /^Bearer\s+(.+)$/i.exec(c.req.header("authorization") ?? "")?.[1]?.trim() ?? "";
  if (!(await timingSafeEqual(presented, c.var.deps.config.adminToken!))) {
    throw new ApiError(
      "unauthorized",
      "The admin API needs the header `Authorization: Bearer <ADMIN_TOKEN>` with the token set by `wrangler secret put ADMIN_TOKEN`.",
    );
  }
  await next();
});
