import { Hono } from "hono";
import { findEvent } from "../archive/service";
import { customerView } from "../billing/customer-view";
import { objectView } from "../billing/object";
import type { AppEnv } from "../http/app-env";
import { objectRef } from "../http/query";
import { eventNotFound } from "../replay/replay";
import { requirePageSession } from "./session";
import { CustomerPage } from "./views/customer-page";
import { objectHref } from "./views/layout";
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
  .get("/objects", objectRef("query"), (c) => {
    const { id, account } = c.req.valid("query");
    return c.redirect(objectHref(id, account), 303);
  })
  .get("/objects/:id", objectRef("param"), async (c) => {
    const { id, account } = c.req.valid("param");
    const view = await objectView(c.var.deps.db, id, account);
    // An event id the ledger no longer has may be in the archive: its page reads it from there.
    if (view === null && (await findEvent(c.var.deps, id)) !== null) return c.redirect(`/admin/events/${encodeURIComponent(id)}`, 303);
    if (view === null) throw eventNotFound(id);
    const { timeline, object } = view;
    const owner =
      timeline.objectId?.startsWith("cus_") || timeline.objectId?.startsWith("acct_")
        ? timeline.objectId
        : ((object?.row.customerId as string | null | undefined) ?? null);
    return c.html(<ObjectPage searched={id} timeline={timeline} object={object} customerId={owner} />);
  })
  .get("/customers/:id", objectRef("param", ["cus_", "acct_"]), async (c) => {
    const { id, account } = c.req.valid("param");
    const { db, config } = c.var.deps;
    return c.html(<CustomerPage id={id} account={account} view={await customerView(db, { account, customerId: id }, config)} />);
  });
