import { HttpResponse, http } from "msw";
import { describe, expect, it, vi } from "vitest";
import { readConfig } from "../src/config";
import { parseStripeApiBase } from "../src/config/api-base";
import { createStripeApi } from "../src/stripe/api";
import { deliver } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { stubStripeApi } from "./helpers/stripe-api";
import { getHealth } from "./helpers/worker";

const KEY = "rk_test_api_base_key_1234567890";

describe("STRIPE_API_BASE", () => {
  it.each([
    [undefined, "https://api.stripe.com", "https", "api.stripe.com", 443],
    ["", "https://api.stripe.com", "https", "api.stripe.com", 443],
    ["  https://api.stripe.com/  ", "https://api.stripe.com", "https", "api.stripe.com", 443],
    ["https://stripe-proxy.example.com:8443", "https://stripe-proxy.example.com:8443", "https", "stripe-proxy.example.com", 8443],
    ["http://127.0.0.1:12111", "http://127.0.0.1:12111", "http", "127.0.0.1", 12111],
    ["http://127.8.9.10", "http://127.8.9.10", "http", "127.8.9.10", 80],
    ["http://localhost:12111", "http://localhost:12111", "http", "localhost", 12111],
    ["http://[::1]:12111", "http://[::1]:12111", "http", "[::1]", 12111],
  ])("accepts %j as %s", (raw, origin, protocol, host, port) => {
    expect(parseStripeApiBase(raw)).toEqual({
      ok: true,
      base: { origin, protocol, host, port, isDefault: origin === "https://api.stripe.com" },
    });
  });

  it.each([
    ["http://stripe-mock.internal:12111", /plain http:\/\/ for an address that is not loopback/],
    ["http://128.0.0.1", /not loopback/],
    ["http://localhost.evil.example", /not loopback/],
    ["ftp://127.0.0.1", /must start with https:\/\//],
    ["api.stripe.com", /not an absolute URL/],
    ["https://user:pass@stripe-proxy.example.com", /user name or password/],
    ["https://stripe-proxy.example.com/stripe", /origin only/],
    ["https://stripe-proxy.example.com/?x=1", /origin only/],
  ])("refuses %j", (raw, why) => {
    const result = parseStripeApiBase(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(why);
  });

  it("sends the Worker's Stripe API calls to the configured base", async () => {
    const seen = stubStripeApi(
      http.get("http://127.0.0.1:12111/v1/subscriptions/sub_base", () => HttpResponse.json({ id: "sub_base", object: "subscription" })),
    );
    const stripe = createStripeApi(readConfig(envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: "http://127.0.0.1:12111" })));
    expect((await stripe!.subscriptions.retrieve("sub_base")).id).toBe("sub_base");
    expect(seen.map((r) => r.url)).toEqual(["http://127.0.0.1:12111/v1/subscriptions/sub_base"]);
  });

  it("sends them to Stripe's API when unset", async () => {
    const seen = stubStripeApi(
      http.get("https://api.stripe.com/v1/subscriptions/sub_default", () =>
        HttpResponse.json({ id: "sub_default", object: "subscription" }),
      ),
    );
    await createStripeApi(readConfig(envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: "" })))!.subscriptions.retrieve("sub_default");
    expect(seen.map((r) => r.url)).toEqual(["https://api.stripe.com/v1/subscriptions/sub_default"]);
  });

  it("never follows a redirect with the API key: a 3xx is an error, not an instruction", async () => {
    const seen = stubStripeApi(
      http.get("https://api.stripe.com/v1/subscriptions/sub_moved", () =>
        HttpResponse.json({}, { status: 302, headers: { location: "https://collector.example/v1/subscriptions/sub_moved" } }),
      ),
    );
    const stripe = createStripeApi(readConfig(envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: "" })))!;
    await expect(stripe.subscriptions.retrieve("sub_moved")).rejects.toMatchObject({ type: "StripeConnectionError" });
    // The SDK retries what looks like a network failure; every attempt went to the configured base only.
    expect(new Set(seen.map((r) => r.url))).toEqual(new Set(["https://api.stripe.com/v1/subscriptions/sub_moved"]));
    expect(seen.every((r) => r.redirect === "manual")).toBe(true);
  });

  it("never hands the API key to a refused base: no client, and a config_invalid log without the value", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const seen = stubStripeApi();
    expect(
      createStripeApi(readConfig(envWith({ STRIPE_SECRET_KEY: KEY, STRIPE_API_BASE: "http://user:pw@stripe-mock.internal" }))),
    ).toBeNull();
    expect(seen).toEqual([]);
    const lines = logged.mock.calls.map(([line]) => String(line));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: "error",
      msg: "config_invalid",
      message: expect.stringMatching(/^STRIPE_API_BASE /),
    });
    expect(lines[0]).not.toContain("stripe-mock.internal");
    expect(lines[0]).not.toContain(KEY);
  });

  it("answers a delivery 500 config_invalid naming the variable when the base is refused", async () => {
    const response = await deliver(buildEvent("customer.created", OBJECTS.customer), {
      env: envWith({ STRIPE_API_BASE: "http://user:pw@stripe-mock.internal" }),
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: "config_invalid", message: expect.stringMatching(/^STRIPE_API_BASE uses plain http:\/\//) },
    });
    expect(text).not.toContain("stripe-mock.internal");
    expect(text).not.toContain("pw");
  });

  it("makes the health report fail with the reason", async () => {
    const { body, text } = await getHealth(envWith({ STRIPE_API_BASE: "https://proxy.example.com/v1" }));
    expect(body.ok).toBe(false);
    expect(text).toMatch(/config_invalid: STRIPE_API_BASE must be an origin only/);
  });
});
