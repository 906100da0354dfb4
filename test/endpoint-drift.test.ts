import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { defaultHandlers } from "../src";
import { compareEndpoint, describeDrift, type EndpointSnapshot } from "../src/stripe/endpoint-drift";

const URL = "https://stripe-webhooks.example.workers.dev/webhooks/stripe";
const target = { url: URL, eventTypes: defaultHandlers().types(), apiVersion: Stripe.API_VERSION };
const endpoint = (overrides: Partial<EndpointSnapshot> = {}): EndpointSnapshot => ({
  url: URL,
  enabled_events: [...target.eventTypes].reverse(),
  api_version: Stripe.API_VERSION,
  status: "enabled",
  ...overrides,
});

describe("compareEndpoint", () => {
  it("finds nothing when the endpoint sends exactly the handled types, in any order, at the SDK's version", () => {
    const drift = compareEndpoint(endpoint(), target);
    expect(drift).toEqual({ missing: [], unhandled: [], wildcard: false, apiVersion: null, url: null, disabled: false, inSync: true });
    expect(describeDrift(drift)).toEqual([]);
  });

  it("warns about handled types the endpoint does not send, and only informs about unhandled ones", () => {
    const drift = compareEndpoint(
      endpoint({ enabled_events: ["invoice.paid", "customer.created", "balance.available", "payout.paid"] }),
      target,
    );
    expect(drift.missing).toContain("checkout.session.completed");
    expect(drift.missing).not.toContain("invoice.paid");
    expect(drift.unhandled).toEqual(["balance.available", "payout.paid"]);
    expect(drift.inSync).toBe(false);
    expect(describeDrift(drift).map((l) => l.level)).toEqual(["warning", "info"]);
    expect(describeDrift(drift)[1]!.message).toMatch(/2 enabled event type\(s\) have no handler .*: balance.available, payout.paid\./);
  });

  it("counts nothing missing for a wildcard endpoint, and says what it costs", () => {
    const drift = compareEndpoint(endpoint({ enabled_events: ["*"] }), target);
    expect(drift).toMatchObject({ missing: [], wildcard: true, inSync: false });
    expect(describeDrift(drift)).toEqual([{ level: "info", message: expect.stringMatching(/every event type \(\*\)/) }]);
  });

  it.each([
    ["another version", "2024-06-20", "2024-06-20"],
    ["the account's default (null)", null, "(the account's default)"],
  ])("reports an endpoint on %s as version drift that only a recreate fixes", (_, version, shown) => {
    const drift = compareEndpoint(endpoint({ api_version: version }), target);
    expect(drift.apiVersion).toEqual({ endpoint: version, expected: Stripe.API_VERSION });
    expect(describeDrift(drift)).toEqual([
      { level: "warning", message: expect.stringContaining(`API version ${shown}, the stripe SDK expects ${Stripe.API_VERSION}`) },
    ]);
    expect(describeDrift(drift)[0]!.message).toMatch(/--recreate/);
  });

  it("reports a disabled endpoint and another URL as warnings", () => {
    const drift = compareEndpoint(endpoint({ status: "disabled", url: "https://old.example/webhooks/stripe" }), target);
    expect(drift).toMatchObject({ disabled: true, url: { endpoint: "https://old.example/webhooks/stripe", expected: URL } });
    expect(describeDrift(drift).map((l) => l.level)).toEqual(["warning", "warning"]);
  });
});
