import { describe, expect, it } from "vitest";
import { Handlers } from "../src/handlers/registry";
import { createWorker } from "../src/worker";
import { ADMIN_TOKEN, adminCall, adminEnv, ORIGIN } from "./helpers/admin";
import { callWorker } from "./helpers/worker";

// Console sessions end on the server: a cookie is a session id and its issue time, signed, and the
// session behind it ends after 8 hours, after 30 idle minutes, at sign-out (wherever the cookie was
// copied to), or for everyone at once. A copied cookie is the attack: it must stop working.

const MINUTE = 60_000;

/** A Worker whose clock the test moves, and the session cookie of a sign-in at its current time. */
function clocked(start = Date.now()) {
  let now = start;
  const worker = createWorker({ handlers: new Handlers(), now: () => now });
  const call = (path: string, init: { method?: string; cookie?: string; env?: Env } = {}) =>
    adminCall(path, {
      worker,
      method: init.method ?? "GET",
      headers: { origin: ORIGIN, ...(init.cookie ? { cookie: init.cookie } : {}) },
      ...(init.env ? { env: init.env } : {}),
    });
  const signIn = async (env = adminEnv()) => {
    const response = await adminCall("/admin/login", {
      worker,
      method: "POST",
      headers: { origin: ORIGIN },
      body: new URLSearchParams({ token: ADMIN_TOKEN }),
      env,
    });
    expect(response.status).toBe(303);
    return response.headers.get("set-cookie")!.split(";")[0]!;
  };
  /** Whether the cookie opens a console page (a page without a session redirects to the sign-in form). */
  const opens = async (cookie: string, env?: Env) => {
    const response = await call("/admin/charts", { cookie, ...(env ? { env } : {}) });
    return response.status === 200;
  };
  const advance = (ms: number) => {
    now += ms;
  };
  return { worker, call, signIn, opens, advance };
}

describe("console sessions", () => {
  it("stops a copied cookie from working once its browser signs out", async () => {
    const { call, signIn, opens } = clocked();
    const cookie = await signIn();
    const copy = cookie;
    expect(await opens(copy)).toBe(true);
    expect((await call("/admin/logout", { method: "POST", cookie })).status).toBe(303);
    expect(await opens(copy)).toBe(false);
    const action = await call("/admin/backfill", { method: "POST", cookie: copy });
    expect(action.status).toBe(401);
  });

  it("ends a session after 30 idle minutes, and keeps an active one alive", async () => {
    const { signIn, opens, advance } = clocked();
    const cookie = await signIn();
    advance(29 * MINUTE);
    expect(await opens(cookie)).toBe(true);
    advance(29 * MINUTE);
    expect(await opens(cookie)).toBe(true);
    advance(31 * MINUTE);
    expect(await opens(cookie)).toBe(false);
  });

  it("ends a session 8 hours after sign-in however active it is", async () => {
    const { signIn, opens, advance } = clocked();
    const cookie = await signIn();
    for (let elapsed = 20 * MINUTE; elapsed < 8 * 60 * MINUTE; elapsed += 20 * MINUTE) {
      advance(20 * MINUTE);
      expect(await opens(cookie)).toBe(true);
    }
    advance(20 * MINUTE);
    expect(await opens(cookie)).toBe(false);
  });

  it("signs out every browser at once", async () => {
    const { call, signIn, opens } = clocked();
    const laptop = await signIn();
    const phone = await signIn();
    expect((await call("/admin/logout/everywhere", { method: "POST", cookie: laptop })).status).toBe(303);
    expect(await opens(laptop)).toBe(false);
    expect(await opens(phone)).toBe(false);
  });

  it("signs everyone out when ADMIN_TOKEN is rotated", async () => {
    const { signIn, opens } = clocked();
    const cookie = await signIn();
    expect(await opens(cookie, adminEnv({ ADMIN_TOKEN: `${ADMIN_TOKEN}-rotated` }))).toBe(false);
    expect(await opens(cookie)).toBe(true);
  });

  it("refuses to sign in over plain http except on a loopback address, where the cookie is not Secure", async () => {
    const form = () => new URLSearchParams({ token: ADMIN_TOKEN });
    const plain = await callWorker(
      new Request("http://worker.example/admin/login", { method: "POST", headers: { origin: "http://worker.example" } }),
      {
        env: adminEnv(),
        body: form(),
        clientIp: "203.0.113.10",
      },
    );
    expect(plain.status).toBe(403);
    expect(((await plain.json()) as { error: { code: string; message: string } }).error.message).toMatch(/over HTTPS only/);
    expect(plain.headers.get("set-cookie")).toBeNull();

    const local = await callWorker(
      new Request("http://127.0.0.1:8787/admin/login", { method: "POST", headers: { origin: "http://127.0.0.1:8787" } }),
      {
        env: adminEnv(),
        body: form(),
        clientIp: "203.0.113.11",
      },
    );
    expect(local.status).toBe(303);
    expect(local.headers.get("set-cookie")).toMatch(/^admin_session=.*; Path=\/; HttpOnly; SameSite=Strict$/);
  });
});

describe("ADMIN_TOKEN", () => {
  it.each(["short", "x".repeat(31)])("closes /admin with config_invalid naming it when it is %j (under 32 characters)", async (token) => {
    const env = adminEnv({ ADMIN_TOKEN: token });
    for (const [path, init] of [
      ["/admin/api/stats", { headers: { authorization: `Bearer ${token}` } }],
      ["/admin/login", { method: "POST", headers: { origin: ORIGIN }, body: new URLSearchParams({ token }) }],
      ["/admin", {}],
    ] as const) {
      const response = await adminCall(path, { ...init, env });
      expect(response.status).toBe(500);
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error).toEqual({ code: "config_invalid", message: expect.stringMatching(/^ADMIN_TOKEN is shorter than 32 characters/) });
      expect(JSON.stringify(body)).not.toContain(token === "short" ? "short," : token);
    }
  });

  it("accepts one of 32 characters", async () => {
    const token = "y".repeat(32);
    const response = await adminCall("/admin/api/stats", {
      env: adminEnv({ ADMIN_TOKEN: token }),
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
  });
});
