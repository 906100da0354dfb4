import { describe, expect, it } from "vitest";
import { API_LIMIT, type Limit, SIGNIN_LIMIT } from "../src/http/rate-limit";
import { ADMIN_TOKEN, type AdminCallOptions, adminCall, ORIGIN } from "./helpers/admin";
import { newClientIp } from "./helpers/client-ip";
import { buildEvent, OBJECTS } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { ledgerRow, seedEvent, setRow } from "./helpers/ledger";

/** A request through the Worker (see `adminCall`), read to the end. */
async function call(path: string, options: AdminCallOptions = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await adminCall(path, options);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

const API_ROUTES: [string, string][] = [
  ["GET", "/admin/api/events"],
  ["GET", "/admin/api/events/evt_x"],
  ["POST", "/admin/api/events/evt_x/replay"],
  ["POST", "/admin/api/replay"],
  ["GET", "/admin/api/stats"],
];

describe("admin surface while ADMIN_TOKEN is unset", () => {
  it.each([...API_ROUTES, ["GET", "/admin"], ["POST", "/admin/login"]])(
    "answers %s %s with the not_found envelope",
    async (method, path) => {
      for (const adminToken of ["", "   "]) {
        const { status, text } = await call(path, {
          method,
          env: envWith({ ADMIN_TOKEN: adminToken }),
          headers: { authorization: "Bearer " },
        });
        expect(status).toBe(404);
        expect(JSON.parse(text).error.code).toBe("not_found");
      }
    },
  );
});

describe("admin API authentication", () => {
  it.each([
    ["no Authorization header", undefined],
    ["a wrong token", `Bearer ${ADMIN_TOKEN}x`],
    ["a prefix of the token", `Bearer ${ADMIN_TOKEN.slice(0, -1)}`],
    ["the token without the Bearer scheme", ADMIN_TOKEN],
    ["Basic auth", `Basic ${btoa(`admin:${ADMIN_TOKEN}`)}`],
    ["an empty bearer", "Bearer "],
  ])("answers 401 unauthorized for %s on every route, without echoing anything sent", async (_name, authorization) => {
    for (const [method, path] of API_ROUTES) {
      const { status, text } = await call(path, { method, headers: authorization === undefined ? {} : { authorization } });
      expect(status).toBe(401);
      expect(JSON.parse(text)).toEqual({
        error: { code: "unauthorized", message: expect.stringContaining("Authorization: Bearer <ADMIN_TOKEN>") },
      });
      expect(text).not.toContain(ADMIN_TOKEN);
    }
  });

  it("does not accept the console's session cookie in place of the Bearer token", async () => {
    const login = await call("/admin/login", {
      method: "POST",
      headers: { origin: "https://worker.example" },
      body: new URLSearchParams({ token: ADMIN_TOKEN }),
    });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    expect((await call("/admin/api/stats", { headers: { cookie } })).status).toBe(401);
  });
});

describe("admin API bad input", () => {
  const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
  it.each([
    ["an unknown status", "/admin/api/events?status=lost", /^status must be/],
    ["a limit over 100", "/admin/api/events?limit=101", /^limit must be/],
    ["a limit of 0", "/admin/api/events?limit=0", /^limit must be/],
    ["an unreadable time", "/admin/api/events?from=yesterday", /^from must be/],
    ["a forged cursor", "/admin/api/events?cursor=bm90LWpzb24", /^cursor is not one/],
    ["a bulk replay over its batch size", "/admin/api/replay?limit=51", /^limit must be a whole number from 1 to 50/],
    [
      "allow_processed that is not a boolean",
      "/admin/api/events/evt_x/replay?allow_processed=yes",
      /^allow_processed must be true or false/,
    ],
    ["an object id that is not a Stripe id", "/admin/api/objects/not-an-id", /^The id must be a Stripe id/],
    ["an object id with a quote", "/admin/api/objects/sub_1'--", /^The id must be a Stripe id/],
    ["a customer id that is a subscription's", "/admin/api/customers/sub_123", /^The id must start with cus_/],
  ])("answers 400 request_invalid for %s", async (_name, path, message) => {
    const { status, text } = await call(path, { method: path.includes("/replay") ? "POST" : "GET", headers: auth });
    expect(status).toBe(400);
    expect(JSON.parse(text).error).toEqual({ code: "request_invalid", message: expect.stringMatching(message) });
  });

  it("answers 404 not_found for an unknown event, to read or replay", async () => {
    for (const [method, path] of [
      ["GET", "/admin/api/events/evt_missing"],
      ["POST", "/admin/api/events/evt_missing/replay"],
    ] as const) {
      const { status, text } = await call(path, { method, headers: auth });
      expect(status).toBe(404);
      expect(JSON.parse(text).error.code).toBe("not_found");
    }
  });

  it.each([
    ["processed", "", / To run its handlers again \(fulfilments stay once-only\), replay it with allow_processed=true/],
    ["ignored", "?allow_processed=false", / To run its handlers again/],
    ["processing", "", /replayed\.$/],
    ["received", "?allow_processed=true", /replayed\.$/],
  ])("answers 409 replay_not_allowed for a %s event (query %j) and leaves it alone", async (rowStatus, query, hint) => {
    const e = buildEvent("customer.updated", OBJECTS.customer);
    await seedEvent(e);
    await setRow(e.id, { status: rowStatus, redrive_at: null });
    const { status, text } = await call(`/admin/api/events/${e.id}/replay${query}`, { method: "POST", headers: auth });
    expect(status).toBe(409);
    const { error } = JSON.parse(text);
    expect(error.code).toBe("replay_not_allowed");
    expect(error.message).toMatch(new RegExp(`^Event ${e.id} is ${rowStatus}; only dead or failed events can be replayed\\.`));
    expect(error.message).toMatch(hint);
    expect((await ledgerRow(e.id))?.status).toBe(rowStatus);
  });
});

describe("console forms posted from another site", () => {
  const form = () => new URLSearchParams({ token: ADMIN_TOKEN });
  it.each([
    ["another origin", { origin: "https://evil.example", "sec-fetch-site": "cross-site" }],
    ["another origin, without Sec-Fetch-Site (an older browser)", { origin: "https://evil.example" }],
    ["no Origin and a cross-site Sec-Fetch-Site", { "sec-fetch-site": "cross-site" }],
    ["no Origin and no Sec-Fetch-Site", {}],
    ["Origin: null (a sandboxed frame or a redirect)", { origin: "null" }],
    ["a sibling subdomain", { origin: "https://other.worker.example", "sec-fetch-site": "same-site" }],
    ["a text/plain form without Origin", { "content-type": "text/plain" }],
  ])("refuses sign-in and sign-out from %s with 403 forbidden and sets no cookie", async (_name, headers) => {
    for (const path of ["/admin/login", "/admin/logout"]) {
      const { status, text, headers: answer } = await call(path, { method: "POST", headers, body: form() });
      expect(status).toBe(403);
      expect(JSON.parse(text)).toEqual({ error: { code: "forbidden", message: expect.stringContaining("console's own pages") } });
      expect(answer.get("set-cookie")).toBeNull();
    }
  });

  it.each([
    ["its own Origin", { origin: "https://worker.example" }],
    ["Sec-Fetch-Site: same-origin without Origin", { "sec-fetch-site": "same-origin" }],
    ["its own Origin and Sec-Fetch-Site: same-origin", { origin: "https://worker.example", "sec-fetch-site": "same-origin" }],
  ])("accepts a sign-in posted from %s", async (_name, headers) => {
    const { status, headers: answer } = await call("/admin/login", { method: "POST", headers, body: form() });
    expect(status).toBe(303);
    expect(answer.get("set-cookie")).toMatch(/^__Host-admin_session=/);
  });

  it("keeps the admin API usable from scripts, which send no Origin", async () => {
    const { status } = await call("/admin/api/replay?status=dead&type=customer.none", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(status).toBe(200);
  });
});

describe("console sign-in form that cannot be read", () => {
  it.each([
    ["multipart without a boundary", "multipart/form-data", "token=abc"],
    ["multipart whose body does not match its boundary", "multipart/form-data; boundary=xyz", "not multipart at all"],
    ["multipart cut off mid-part", "multipart/form-data; boundary=xyz", '--xyz\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc'],
  ])("answers 400 request_invalid for %s", async (_name, contentType, body) => {
    const { status, text } = await call("/admin/login", {
      method: "POST",
      headers: { origin: "https://worker.example", "content-type": contentType },
      body,
    });
    expect(status).toBe(400);
    expect(JSON.parse(text)).toEqual({ error: { code: "request_invalid", message: expect.stringContaining("token") } });
  });

  it("answers 413 payload_too_large for a sign-in body over 16 KiB, declared or streamed", async () => {
    const big = `token=${"x".repeat(16 * 1024)}`;
    for (const body of [big, new Blob([big]).stream()]) {
      const { status, text } = await call("/admin/login", {
        method: "POST",
        headers: { origin: "https://worker.example", "content-type": "application/x-www-form-urlencoded" },
        body,
      });
      expect(status).toBe(413);
      expect(JSON.parse(text)).toEqual({ error: { code: "payload_too_large", message: expect.stringContaining("larger than") } });
    }
  });
});

/**
 * Sends until the limiter answers 429 and says after how many requests. A fresh address is never
 * refused within its first `limit` requests. Windows are aligned to the clock, so a new one may begin
 * mid-test (at most once: a test is far shorter than a period) and allow up to `limit` more.
 */
async function untilLimited(limit: Limit, send: () => ReturnType<typeof call>) {
  for (let sent = 1; sent <= 2 * limit.limit + 1; sent++) {
    const response = await send();
    if (response.status === 429) return { sent, ...response };
  }
  throw new Error(
    `no 429 after ${2 * limit.limit + 1} requests: ` +
      `does ${limit.binding} in wrangler.toml still allow ${limit.limit} per ${limit.periodSeconds} s?`,
  );
}

function expectRateLimited(response: { status: number; text: string; headers: Headers }, limit: Limit, sent: readonly string[]) {
  expect(response.status).toBe(429);
  expect(response.headers.get("retry-after")).toBe(String(limit.periodSeconds));
  expect(JSON.parse(response.text)).toEqual({
    error: {
      code: "rate_limited",
      message:
        `Too many ${limit.counted} from this address: at most ${limit.limit} per ${limit.periodSeconds} s per client IP. ` +
        `Wait ${limit.periodSeconds} seconds (Retry-After) and try again.`,
    },
  });
  for (const secret of [ADMIN_TOKEN, ...sent]) expect(response.text).not.toContain(secret);
}

describe("per-client-IP limits on guessing ADMIN_TOKEN", () => {
  const signIn = (clientIp: string | null, token: string) => () =>
    call("/admin/login", { method: "POST", clientIp, headers: { origin: ORIGIN }, body: new URLSearchParams({ token }) });
  const apiCall = (clientIp: string, token: string) => () =>
    call("/admin/api/stats", { clientIp, headers: { authorization: `Bearer ${token}` } });

  it(`answers 429 rate_limited after ${SIGNIN_LIMIT.limit} bad sign-ins from one address, then refuses the right token too`, async () => {
    const ip = newClientIp();
    const bad = await untilLimited(SIGNIN_LIMIT, signIn(ip, "guess-1"));
    expect(bad.sent).toBeGreaterThan(SIGNIN_LIMIT.limit);
    expectRateLimited(bad, SIGNIN_LIMIT, ["guess-1"]);
    // The right token is counted and refused as well: were it let through, a limited guesser would
    // still recognise it by its 303 and the limit would slow no one.
    const right = await untilLimited(SIGNIN_LIMIT, signIn(ip, ADMIN_TOKEN));
    expect(right.sent).toBeLessThanOrEqual(SIGNIN_LIMIT.limit + 1);
    expect(right.headers.get("set-cookie")).toBeNull();
    expectRateLimited(right, SIGNIN_LIMIT, []);
  });

  it(`answers 429 after ${SIGNIN_LIMIT.limit} admin API requests with bad tokens, then refuses the right token too`, async () => {
    const ip = newClientIp();
    const bad = await untilLimited(SIGNIN_LIMIT, apiCall(ip, "guess-2"));
    expect(bad.sent).toBeGreaterThan(SIGNIN_LIMIT.limit);
    expect(bad.sent).toBeLessThanOrEqual(SIGNIN_LIMIT.limit + 1);
    expectRateLimited(bad, SIGNIN_LIMIT, ["guess-2"]);
    // Locked out for the period: the right token learns nothing either.
    const right = await apiCall(ip, ADMIN_TOKEN)();
    expect(right.status).toBe(429);
    expectRateLimited(right, SIGNIN_LIMIT, []);
  });

  it("shares wrong-token attempts between the API and the sign-in form of one address", async () => {
    const ip = newClientIp();
    for (let i = 0; i < SIGNIN_LIMIT.limit; i++) expect((await apiCall(ip, `guess-5-${i}`)()).status).toBe(401);
    const signin = await signIn(ip, ADMIN_TOKEN)();
    expect(signin.status).toBe(429);
    expect(signin.headers.get("set-cookie")).toBeNull();
  });

  it("counts an IPv6 client by its /64: rotating the address within it does not reset the count", async () => {
    const [a, b] = crypto.getRandomValues(new Uint16Array(2));
    const in64 = (n: number) => `2001:db8:${a!.toString(16)}:${b!.toString(16)}:${n.toString(16)}::${(n * 7).toString(16)}`;
    for (let i = 0; i < SIGNIN_LIMIT.limit; i++) expect((await apiCall(in64(i + 1), `guess-6-${i}`)()).status).toBe(401);
    expect((await apiCall(in64(50), "guess-6-last")()).status).toBe(429);
    expect((await apiCall(in64(99), ADMIN_TOKEN)()).status).toBe(429);
    // Another /64 is another client.
    expect((await apiCall(`2001:db8:${a!.toString(16)}:${((b! + 1) % 65536).toString(16)}::1`, ADMIN_TOKEN)()).status).toBe(200);
  });

  it("still serves the right token at the API's own pace (the strict limit counts only wrong tokens there)", async () => {
    const ip = newClientIp();
    for (let i = 0; i < SIGNIN_LIMIT.limit * 3; i++) expect((await apiCall(ip, ADMIN_TOKEN)()).status).toBe(200);
  });

  it("limits only the address that made the attempts", async () => {
    const limited = newClientIp();
    await untilLimited(SIGNIN_LIMIT, signIn(limited, "guess-3"));
    await untilLimited(API_LIMIT, apiCall(limited, "guess-3"));
    const other = newClientIp();
    expect((await signIn(other, ADMIN_TOKEN)()).status).toBe(303);
    expect((await apiCall(other, ADMIN_TOKEN)()).status).toBe(200);
  });

  it("counts requests without CF-Connecting-IP in one shared bucket rather than not at all", async () => {
    const bad = await untilLimited(SIGNIN_LIMIT, signIn(null, "guess-4"));
    expectRateLimited(bad, SIGNIN_LIMIT, ["guess-4"]);
    expect((await untilLimited(SIGNIN_LIMIT, signIn(null, ADMIN_TOKEN))).sent).toBeLessThanOrEqual(SIGNIN_LIMIT.limit + 1);
  });
});
