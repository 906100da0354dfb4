import { Hono } from "hono";
import { customerView, isUnknownCustomer } from "../../billing/customer-view";
import { objectView } from "../../billing/object";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";
import { objectRef } from "../../http/query";
import { customerJson, timelineJson } from "./json";

/**
 * `/admin/api/objects/{id}` and `/admin/api/customers/{id}`: what happened to a Stripe object, and what
 * a customer has.
 */
export const objectRoutes = new Hono<AppEnv>()
  .get("/objects/:id", objectRef("param"), async (c) => {
    const { id, account } = c.req.valid("param");
    const view = await objectView(c.var.deps.db, id, account);
    if (view === null) throw new ApiError("not_found", `No event ${id} in the ledger.`);
    const { timeline, object } = view;
    if (object === null && timeline.events.length === 0) {
      throw new ApiError(
        "not_found",
        `Nothing is known about ${id}${inAccount(account)}: no billing row and no event in the ledger ` +
          "(retention deletes final events after LEDGER_RETENTION_DAYS).",
      );
    }
    return c.json(timelineJson(timeline, object));
  })
  .get("/customers/:id", objectRef("param", ["cus_", "acct_"]), async (c) => {
    const { id, account } = c.req.valid("param");
    const { db, config } = c.var.deps;
    const view = await customerView(db, { account, customerId: id }, config);
    if (isUnknownCustomer(view))
      throw new ApiError(
        "not_found",
        `Nothing is known about customer ${id}${inAccount(account)}: no billing row and no event in the ledger.`,
      );
    return c.json(customerJson(view));
  });

/** " in acct_…" for a connected account's object, nothing for the platform's own. */
function inAccount(account: string): string {
  return account === "" ? "" : ` in ${account}`;
}
