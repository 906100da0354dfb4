import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import worker from "../../src/index";
import { newClientIp } from "./client-ip";
import { envWith } from "./faults";

/** The admin token the admin helpers sign in with; tests pass `adminEnv()` so the Worker knows it. */
export const ADMIN_TOKEN = "admin-token-for-admin-helpers";
export const ORIGIN = "https://worker.example";

/** `env` with the admin surface enabled (and any binding a test replaces). */
export function adminEnv(overrides: Partial<Env> = {}): Env {
  return envWith({ ADMIN_TOKEN, ...overrides });
}

/** A request to the Worker's own fetch handler from a fresh client address (the admin limits count per address). */
export async function adminCall(path: string, init: RequestInit = {}, testEnv: Env = adminEnv()): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("cf-connecting-ip", newClientIp());
  const ctx = createExecutionContext();
  const response = await worker.fetch(new Request(`${ORIGIN}${path}`, { ...init, headers }), testEnv, ctx);
  await waitOnExecutionContext(ctx);
  return response;
}

/** The admin API with the Bearer token: status and parsed body. */
export async function adminApi(path: string, init: RequestInit = {}, testEnv: Env = adminEnv()): Promise<{ status: number; body: any }> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${ADMIN_TOKEN}`);
  const response = await adminCall(`/admin/api${path}`, { ...init, headers }, testEnv);
  return { status: response.status, body: await response.json() };
}

/** Signs in to the console and returns the session cookie (`name=value`). */
export async function consoleSession(testEnv: Env = adminEnv()): Promise<string> {
  const response = await adminCall("/admin/login", { method: "POST", headers: { origin: ORIGIN }, body: new URLSearchParams({ token: ADMIN_TOKEN }) }, testEnv);
  expect(response.status).toBe(303);
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

/** A console page's HTML, signed in. */
export async function consolePage(path: string, testEnv: Env = adminEnv()): Promise<{ status: number; html: string; location: string | null }> {
  const response = await adminCall(path, { headers: { cookie: await consoleSession(testEnv) } }, testEnv);
  return { status: response.status, html: await response.text(), location: response.headers.get("location") };
}
