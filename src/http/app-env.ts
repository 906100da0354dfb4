import type { Deps } from "../deps";

/**
 * Hono typing shared by the app and every route: the Worker's bindings plus the request's
 * dependencies (`c.var.deps`, built once per request by src/worker.ts). Its own module, so that
 * routes never import the app that mounts them.
 *
 * @example
 * export const healthRoutes = new Hono<AppEnv>().get("/", (c) => c.json({ now: c.var.deps.now() }));
 */
export interface AppEnv {
  Bindings: Env;
  Variables: { deps: Deps };
}
