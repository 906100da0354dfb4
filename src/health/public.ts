import type { Deps } from "../deps";
import { type HealthCode, healthReport } from "./report";

/** How long an isolate answers `/health` from its last report: at most one D1 read per this long. */
const CACHE_MS = 10_000;

/** What `GET /health` tells anyone: healthy, or not and one stable code. */
export type PublicHealth = { ok: true } | { ok: false; code: HealthCode };

// Per isolate and per set of bindings (tests run Workers with other bindings side by side).
const cached = new WeakMap<object, { at: number; health: Promise<PublicHealth> }>();

/**
 * The health an anonymous caller may know, from a report at most CACHE_MS old: requests meanwhile,
 * however many, share it and read nothing, so a flood of `/health` costs D1 one query per isolate per
 * 10 s (D1's single writer also takes the deliveries' inserts), and a stranger learns nothing about
 * the secrets, the settings or the database.
 *
 * @example
 * const health = await publicHealth(c.var.deps);
 */
export function publicHealth(deps: Pick<Deps, "env" | "config" | "db" | "now">): Promise<PublicHealth> {
  const nowMs = deps.now();
  const entry = cached.get(deps.env);
  if (entry && nowMs >= entry.at && nowMs - entry.at < CACHE_MS) return entry.health;
  const health = healthReport(deps.config, deps.db, nowMs).then(
    (r): PublicHealth => (r.code === null ? { ok: true } : { ok: false, code: r.code }),
  );
  cached.set(deps.env, { at: nowMs, health });
  return health;
}
