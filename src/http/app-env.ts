import type { Config } from "../config";
import type { Handlers } from "../handlers/registry";

/**
 * Hono typing shared by the app and every route: the Worker's bindings plus what `createApp` sets on
 * each request: the clock, the registered handlers and the parsed configuration (`readConfig`). Its own module, so that routes never import
 * the app that mounts them.
 *
 * @example
 * export const healthRoutes = new Hono<AppEnv>().get("/", (c) => c.json({ now: c.var.now() }));
 */
export interface AppEnv {
  Bindings: Env;
  Variables: { now: () => number; handlers: Handlers; config: Config };
}
