import { Hono } from "hono";
import { findEvent } from "../archive/service";
import { customerView } from "../billing/customer-view";
import { objectView } from "../billing/object";
import type { AppEnv } from "../http/app-env";
import { stripeId } from "../http/query";
import { eventNotFound } from "../replay/replay";
import { requirePageSession } from "./session";
import { CustomerPage } from "./views/customer-page";
import { ObjectPage } from "./views/object-page";

/**
 * The console's answers to "what happened to this object?" and "what does this customer have?":
 * the search box (a GET form, redirected to the object's own URL; an event id found only in the R2
 * archive to its event page), an object's timeline next to its billing row, and the customer view.
 */
export const consoleObjectRoutes = new Hono<AppEnv>()
  .use("/objects/*", requirePageSession)
  .use("/objects", requirePageSession)
  .use("/customers/*", requirePageSession)
  .get("/objects", stripeId("query"), (c) => c.redirect(`/admin/objects/${encodeURIComponent(c.req.valid("query").id)}`, 303))
  .get("/objects/:id", stripeId("param"), async (c) => {
    const { id } = c.req.valid("param");
    const view = await objectView(c.var.deps.db, id);
    // An event id the ledger no longer has may be in the archive: its page reads it from there.
    if (view === null && (await findEvent(c.var.deps, id)) !== null) return c.redirect(`/admin/events/${encodeURIComponent(id)}`, 303);
    if (view === null) throw eventNotFound(id);
    const { timeline, object } = view;
    const owner = timeline.objectId?.startsWith("cus_")
      ? timeline.objectId
      : ((object?.row.customerId as string | null | undefined) ?? null);
    return c.html(<ObjectPage searched={id} timeline={timeline} object={object} customerId={owner} />);
  })
  .get("/customers/:id", stripeId("param", ["cus_"]), async (c) => {
    const { id } = c.req.valid("param");
    return c.html(<CustomerPage id={id} view={await customerView(c.var.deps.db, id)} />);
  });
