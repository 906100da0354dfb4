import { describe, expect, it, vi } from "vitest";
import { ADMIN_TOKEN, adminCall, consoleSession, ORIGIN } from "./helpers/admin";
import { buildEvent, OBJECTS } from "./helpers/events";
import { ledgerRow, seedEvent, setRow } from "./helpers/ledger";

async function deadEvent(): Promise<string> {
  const e = buildEvent("customer.test_console", OBJECTS.customer);
  await seedEvent(e);
  await setRow(e.id, { status: "dead", last_error: "Error: <script>alert(1)</script>", redrive_at: null });
  return e.id;
}

async function processedEvent(): Promise<string> {
  const e = buildEvent("customer.test_console", OBJECTS.customer);
  await seedEvent(e);
  await setRow(e.id, { status: "processed", redrive_at: null });
  return e.id;
}

/** The CSP hash source of a style element's text, as a browser computes it. */
async function styleHash(css: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(css)));
  return `'sha256-${btoa(String.fromCharCode(...digest))}'`;
}

describe("console security headers", () => {
  it.each([
    ["the sign-in page", async () => adminCall("/admin")],
    ["the events page", async () => adminCall("/admin", { headers: { cookie: await consoleSession() } })],
    ["an event's page", async () => adminCall(`/admin/events/${await deadEvent()}`, { headers: { cookie: await consoleSession() } })],
    ["an object's timeline", async () => adminCall(`/admin/objects/${await deadEvent()}`, { headers: { cookie: await consoleSession() } })],
    ["a customer view", async () => adminCall(`/admin/customers/${OBJECTS.customer.id}`, { headers: { cookie: await consoleSession() } })],
    ["the charts", async () => adminCall("/admin/charts", { headers: { cookie: await consoleSession() } })],
    ["a bulk replay's confirmation", async () => adminCall("/admin/replay?status=dead", { headers: { cookie: await consoleSession() } })],
    [
      "a processed event's replay confirmation",
      async () => adminCall(`/admin/events/${await processedEvent()}/replay`, { headers: { cookie: await consoleSession() } }),
    ],
    ["a refused form post", async () => adminCall("/admin/logout", { method: "POST", headers: { origin: "https://evil.example" } })],
  ])("sends a CSP that allows only the console's own stylesheet, and no framing, referrer or caching, on %s", async (_name, load) => {
    const response = await load();
    const h = response.headers;
    const html = await response.text();
    const csp = h.get("content-security-policy");
    if (html.startsWith("<")) {
      // The one inline stylesheet is allowed by its hash; no script, no style attribute, nothing else inline.
      const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
      expect(styles).toHaveLength(1);
      expect(csp).toContain(`style-src ${await styleHash(styles[0]!)}`);
      expect(html).not.toMatch(/<script|\sstyle=/);
    }
    expect(csp).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/]+=*'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$/,
    );
    expect(h.get("referrer-policy")).toBe("no-referrer");
    expect(h.get("x-frame-options")).toBe("DENY");
    expect(h.get("x-content-type-options")).toBe("nosniff");
    expect(h.get("cache-control")).toBe("no-store");
  });
});

describe("operator console", () => {
  it("shows the sign-in form, not events, without a session", async () => {
    const html = await (await adminCall("/admin")).text();
    expect(html).toContain('name="token"');
    expect(html).not.toContain("<table");
    // The inline stylesheet must reach the browser unescaped, or its quoted font names break the CSS.
    expect(html).toContain('"Segoe UI"');
  });

  it.each([
    "/admin/events/evt_signed_out",
    "/admin/objects/sub_signed_out",
    "/admin/objects?id=sub_signed_out",
    "/admin/customers/cus_signed_out",
    "/admin/charts",
    "/admin/replay?status=dead",
    "/admin/events/evt_signed_out/replay",
  ])("sends %s to the sign-in form without a session", async (path) => {
    const response = await adminCall(path);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("/admin");
  });

  it("sets a __Host-, HttpOnly, Secure, SameSite=Strict cookie: a random id and its issue time, signed, never the token", async () => {
    const response = await adminCall("/admin/login", {
      method: "POST",
      headers: { origin: ORIGIN },
      body: new URLSearchParams({ token: ADMIN_TOKEN }),
    });
    const cookie = response.headers.get("set-cookie")!;
    expect(cookie).toMatch(
      /^__Host-admin_session=[0-9a-f]{32}\.\d{13}\.[A-Za-z0-9%+/=]+; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
    expect(cookie).not.toContain(ADMIN_TOKEN);
    // Two sign-ins are two sessions, not one value derived from the token.
    const again = (
      await adminCall("/admin/login", { method: "POST", headers: { origin: ORIGIN }, body: new URLSearchParams({ token: ADMIN_TOKEN }) })
    ).headers.get("set-cookie")!;
    expect(again.split(".")[0]).not.toBe(cookie.split(".")[0]);
  });

  it("sends a wrong token back to the sign-in form with an explanation and no cookie", async () => {
    const response = await adminCall("/admin/login", {
      method: "POST",
      headers: { origin: ORIGIN },
      body: new URLSearchParams({ token: "nope" }),
    });
    expect(response.status).toBe(303);
    expect(response.headers.get("set-cookie")).toBeNull();
    expect(await (await adminCall(response.headers.get("location")!)).text()).toContain("not this Worker");
  });

  it("lists a dead event with its escaped error, shows its detail with a Replay button, and replays it", async () => {
    const cookie = await consoleSession();
    const id = await deadEvent();
    const list = await (await adminCall("/admin?status=dead", { headers: { cookie } })).text();
    expect(list).toContain(`data-event-id="${id}"`);
    expect(list).toContain("Error: &lt;script&gt;alert(1)&lt;/script&gt;");
    const detail = await (await adminCall(`/admin/events/${id}`, { headers: { cookie } })).text();
    expect(detail).toContain(`action="/admin/events/${id}/replay"`);

    const replayed = await adminCall(`/admin/events/${id}/replay`, { method: "POST", headers: { cookie, origin: ORIGIN } });
    expect(replayed.status).toBe(303);
    expect(replayed.headers.get("location")).toBe(`/admin/events/${id}?replayed=1`);
    await vi.waitFor(async () => expect((await ledgerRow(id))?.status).toBe("ignored"), { timeout: 10_000, interval: 100 });
  });

  it.each([
    ["no session cookie", (_cookie: string) => ({ origin: ORIGIN }), 401, "unauthorized"],
    // The session id is this Worker's, but the cookie was signed under another token.
    ["a cookie for another token", (cookie: string) => ({ origin: ORIGIN, cookie: resigned(cookie) }), 401, "unauthorized"],
    ["a cross-origin form", (cookie: string) => ({ origin: "https://evil.example", cookie }), 403, "forbidden"],
    ["a cross-site form without Origin", (cookie: string) => ({ "sec-fetch-site": "cross-site", cookie }), 403, "forbidden"],
    ["a form with neither Origin nor Sec-Fetch-Site", (cookie: string) => ({ cookie }), 403, "forbidden"],
    [
      "a form from a sibling subdomain",
      (cookie: string) => ({ origin: "https://other.worker.example", "sec-fetch-site": "same-site", cookie }),
      403,
      "forbidden",
    ],
  ])("refuses a replay with %s and leaves the event dead", async (_name, headersFor, status, code) => {
    const id = await deadEvent();
    const response = await adminCall(`/admin/events/${id}/replay`, { method: "POST", headers: headersFor(await consoleSession()) });
    expect(response.status).toBe(status);
    expect(((await response.json()) as any).error.code).toBe(code);
    expect((await ledgerRow(id))?.status).toBe("dead");
  });
});

/** A session cookie with its signature replaced by one made under another key, as a cookie for another token would carry. */
function resigned(cookie: string): string {
  const [name, value] = cookie.split("=") as [string, string];
  const [id, issued] = decodeURIComponent(value).split(".");
  return `${name}=${encodeURIComponent(`${id}.${issued}.${btoa("x".repeat(32))}`)}`;
}
