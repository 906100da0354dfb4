import { describe, expect, it } from "vitest";
import { defaultHandlers } from "../src/handlers";
import listenEvents from "../scripts/stripe-listen-events.json";

describe("npm run stripe:listen", () => {
  it("forwards exactly the event types the built-in handlers handle", () => {
    expect([...listenEvents].sort()).toEqual(defaultHandlers().types().sort());
  });
});
