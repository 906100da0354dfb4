import { Hono } from "hono";
import { customerView, isUnknownCustomer } from "../../billing/customer-view";
import { objectView } from "../../billing/object";
import { createDb } from "../../db/client";
import { ApiError } from "../../errors";
import type { AppEnv } from "../../http/app-env";
import { customerJson, timelineJson } from "./json";
import { parseStripeId } from "./query";

/**
 * `/admin/api/objects/{id}` and `/admin/api/customers/{id}`: what happened to a Stripe object, and what
 * a customer has. Mounted inside the API router, behind its rate limit and Bearer check.
 */
export const adminObjectRoutes = new Hono<AppEnv>()
  .get("/objects/:id", async (c) => {
    const id = parseStripeId(c.req.param("id"));
    const view = await objectView(createDb(c.env.DB), id);
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
  .get("/customers/:id", async (c) => {
    const id = parseStripeId(c.req.param("id"), ["cus_"]);
    const view = await customerView(createDb(c.env.DB), id);
    if (isUnknownCustomer(view))
      throw new ApiError("not_found", `Nothing is known about customer ${id}: no billing row and no event in the ledger.`);
    return c.json(customerJson(view));
  });
