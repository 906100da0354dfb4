import { Hono } from "hono";
import { customerView, isUnknownCustomer } from "../../billing/customer-view";
import { objectView } from "../../billing/object";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";
import { stripeId } from "../../http/query";
import { customerJson, timelineJson } from "./json";

/**
 * `/admin/api/objects/{id}` and `/admin/api/customers/{id}`: what happened to a Stripe object, and what
 * a customer has.
 */
export const objectRoutes = new Hono<AppEnv>()
  .get("/objects/:id", stripeId("param"), async (c) => {
    const { id } = c.req.valid("param");
    const view = await objectView(c.var.deps.db, id);
    if (view === null) throw new ApiError("not_found", `No event ${id} in the ledger.`);
    const { timeline, object } = view;
    if (object === null && timeline.events.length === 0) {
      throw new ApiError(
        "not_found",
        `Nothing is known about ${id}: no billing row and no event in the ledger ` +
          "(retention deletes final events after LEDGER_RETENTION_DAYS).",
      );
    }
    return c.json(timelineJson(timeline, object));
  })
  .get("/customers/:id", stripeId("param", ["cus_"]), async (c) => {
    const { id } = c.req.valid("param");
    const view = await customerView(c.var.deps.db, id);
    if (isUnknownCustomer(view))
      throw new ApiError("not_found", `Nothing is known about customer ${id}: no billing row and no event in the ledger.`);
    return c.json(customerJson(view));
  });
