import { describe, expect, it } from "vitest";
import { defaultHandlers } from "../src/handlers";
import listenEvents from "../scripts/stripe-listen-events.json";

describe("scripts/stripe-listen-events.json", () => {
  it("lists exactly the event types the built-in handlers handle (what stripe listen forwards and stripe:endpoint enables)", () => {
    expect([...listenEvents].sort()).toEqual(defaultHandlers().types().sort());
  });
});
