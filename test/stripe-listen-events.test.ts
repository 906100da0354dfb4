import { describe, expect, it } from "vitest";
import listenEvents from "../scripts/stripe-listen-events.json";
import listenThinEvents from "../scripts/stripe-listen-thin-events.json";
import { defaultHandlers } from "../src";

describe("scripts/stripe-listen-events.json", () => {
  it("lists exactly the event types the built-in handlers handle (what stripe listen forwards and stripe:endpoint enables)", () => {
    expect([...listenEvents].sort()).toEqual(defaultHandlers().types().sort());
  });

  it("has a thin twin list with exactly the thin types the built-in handlers handle (what stripe listen --thin forwards)", () => {
    expect([...listenThinEvents].sort()).toEqual(defaultHandlers().thinTypes().sort());
    expect(listenThinEvents).toEqual(listenEvents.map((type) => `v1.${type}`).sort());
  });
});
