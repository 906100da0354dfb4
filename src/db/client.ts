import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

/**
 * A Drizzle client over a D1 binding. Cheap to create, so it is made per request or batch from
 * that invocation's `env`, never held at module level.
 *
 * @example
 * const db = createDb(env.DB);
 */
export function createDb(d1: D1Database) {
  return drizzle(d1, { schema, casing: "snake_case" });
}

export type Database = ReturnType<typeof createDb>;
