// STRIPE_API_BASE for the scripts: the environment first, then .dev.vars, parsed by the same code
// as the Worker's (src/config/api-base.ts, run with Node's type stripping).
import { parseStripeApiBase } from "../../src/config/api-base.ts";
import { setting } from "./dev-vars.mjs";

/** The parsed STRIPE_API_BASE; a refused one prints why and exits 1. */
export function stripeApiBaseOrExit() {
  const result = parseStripeApiBase(setting("STRIPE_API_BASE"));
  if (!result.ok) {
    console.error(`${result.message}\n(Read from ${process.env.STRIPE_API_BASE?.trim() ? "the environment" : ".dev.vars"}.)`);
    process.exit(1);
  }
  return result.base;
}
