import { exports } from "cloudflare:workers";
import type { BillingService } from "../../src/entrypoints/billing-service";

/** The methods another Worker calls on the BillingService entrypoint. */
export type BillingRpc = Pick<BillingService, "entitlements" | "features" | "hasFeature" | "forUser" | "subscription">;

/** The BillingService entrypoint over RPC, as another Worker's service binding reaches it. */
export function billingService(): BillingRpc {
  return (exports as unknown as { BillingService: BillingRpc }).BillingService;
}
