import { Hono } from "hono";
import { customerView } from "../../billing/customer-view";
import { objectView } from "../../billing/object";
import { createDb } from "../../db/client";
import type { AppEnv } from "../../http/app-env";
import { requirePageSession } from "./auth";
import { parseStripeId } from "./query";
import { eventNotFound } from "./replay";
import { CustomerPage } from "./views/customer-page";
import { ObjectPage } from "./views/object-page";

/**
 * The console's answers to "what happened to this object?" and "what does this customer have?":
 * the search box (a GET form, redirected to the object's own URL), an object's timeline next to its
 * billing row, and the customer view.
 */
export const consoleObjectRoutes = new Hono<AppEnv>()
  .use("/objects/*", requirePageSession)
  .use("/objects", requirePageSession)
  .use("/customers/*", requirePageSession)
  .get("/objects", (c) => c.redirect(`/admin/objects/${encodeURIComponent(parseStripeId(c.req.query("id")))}`, 303))
  .get("/objects/:id", async (c) => {
    const id = parseStripeId(c.req.param("id"));
    const view = await objectView(createDb(c.env.DB), id);
    if (view === null) throw eventNotFound(id);
    const { timeline, object } = view;
    const owner = timeline.objectId?.startsWith("cus_")
      ? timeline.objectId
      : ((object?.row.customerId as string | null | undefined) ?? null);
    return c.html(<ObjectPage searched={id} timeline={timeline} object={object} customerId={owner} />);
  })
  .get("/customers/:id", async (c) => {
    const id = parseStripeId(c.req.param("id"), ["cus_"]);
    return c.html(<CustomerPage id={id} view={await customerView(createDb(c.env.DB), id)} />);
  });
