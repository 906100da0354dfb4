import { expect } from "vitest";
import { newClientIp } from "./client-ip";
import { envWith } from "./faults";
import { type CallOptions, callWorker, ORIGIN } from "./worker";

export { ORIGIN };

/** The admin token the admin helpers sign in with; tests pass `adminEnv()` so the Worker knows it. */
export const ADMIN_TOKEN = "admin-token-for-admin-helpers-0123456789";

/** `env` with the admin surface enabled (and any binding or variable a test replaces). */
export function adminEnv(overrides: Partial<Env> = {}): Env {
  return envWith({ ADMIN_TOKEN, ...overrides });
}

export interface AdminCallOptions extends Omit<CallOptions, "clientIp"> {
  /** CF-Connecting-IP: a fresh address by default (the admin limits count per address); null sends none. */
  clientIp?: string | null;
}

/**
 * A request to the Worker (with `adminEnv()` unless `env` is given) from a client address no other
 * request uses, unless `clientIp` says otherwise: the admin limits count per address, and their
 * counters are not reset between tests.
 *
 * @example
 * const response = await adminCall("/admin", { headers: { cookie: await consoleSession() } });
 */
export function adminCall(path: string, options: AdminCallOptions = {}): Promise<Response> {
  const { clientIp = newClientIp(), env = adminEnv(), ...rest } = options;
  return callWorker(path, { ...rest, env, ...(clientIp === null ? {} : { clientIp }) });
}

/** The admin API (`/admin/api` + `path`) with the Bearer token: status and parsed body. */
export async function adminApi(path: string, options: AdminCallOptions = {}): Promise<{ status: number; body: any }> {
  const headers = new Headers(options.headers);
  headers.set("authorization", `Bearer ${ADMIN_TOKEN}`);
  const response = await adminCall(`/admin/api${path}`, { ...options, headers });
  return { status: response.status, body: await response.json() };
}

/** Signs in to the console and returns the session cookie (`name=value`). */
export async function consoleSession(testEnv: Env = adminEnv()): Promise<string> {
  const response = await adminCall("/admin/login", {
    method: "POST",
    headers: { origin: ORIGIN },
    body: new URLSearchParams({ token: ADMIN_TOKEN }),
    env: testEnv,
  });
  expect(response.status).toBe(303);
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

/** A console page's HTML, signed in. */
export async function consolePage(
  path: string,
  testEnv: Env = adminEnv(),
): Promise<{ status: number; html: string; location: string | null }> {
  const response = await adminCall(path, { headers: { cookie: await consoleSession(testEnv) }, env: testEnv });
  return { status: response.status, html: await response.text(), location: response.headers.get("location") };
}
