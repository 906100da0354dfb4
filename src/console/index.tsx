import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { csrf } from "hono/csrf";
import { secureHeaders } from "hono/secure-headers";
import { timingSafeEqual } from "hono/utils/buffer";
import { findEvent } from "../archive/service";
import { BACKFILL_STATE, type BackfillState, backfillProgress } from "../backfill/state";
import { readJobStates } from "../db/job-state";
import { listEvents } from "../db/ledger/reads";
import { ledgerStats } from "../db/ledger/stats";
import { ENDPOINT_CHECK_STATE, type EndpointCheckState } from "../endpoint-check/check";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/app-env";
import { encodeCursor, filterFields, listQuery } from "../http/query";
import { rateLimit, SIGNIN_LIMIT } from "../http/rate-limit";
import { log } from "../log";
import { eventNotFound } from "../replay/replay";
import { consoleArchiveRoutes } from "./archive";
import { consoleBackfillRoutes } from "./backfill";
import { consoleChartRoutes } from "./charts";
import { consoleHealthRoutes } from "./health";
import { consoleObjectRoutes } from "./objects";
import { consoleReplayRoutes } from "./replay";
import { currentSession, requirePageSession, requireSession, signIn, signOut, signOutEverywhere } from "./session";
import { EventPage } from "./views/event-page";
import { EventsPage } from "./views/events-page";
import { LoginPage } from "./views/login";
import { StatusBanner } from "./views/status-banner";
import { STYLES_CSP_HASH } from "./views/styles";

/**
 * `GET /admin` and its forms. Browsers cannot send a Bearer header on navigation, so the token is
 * posted once and exchanged for a session (src/console/session.ts: an HttpOnly, SameSite=Strict,
 * `__Host-` cookie whose session ends on the server after 8 h, 30 idle minutes or a sign-out); every
 * state-changing form is a POST that csrf() accepts only when the browser says it came from this
 * origin (Sec-Fetch-Site: same-origin, or this Origin). A form post that says neither, Origin absent
 * included, is refused 403: SameSite already keeps the cookie off cross-site requests, and this also
 * covers sign-in (which has no cookie yet) and same-site sibling origins.
 */
export const consoleRoutes = new Hono<AppEnv>()
  // Operator pages hold payloads: never cache them, frame them or leak their URLs (ids in the path)
  // as a referrer. They have no script and one inline stylesheet, allowed by its hash.
  .use(
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'none'"],
        styleSrc: [STYLES_CSP_HASH],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
      xFrameOptions: "DENY",
    }),
    async (c, next) => {
      await next();
      c.header("Cache-Control", "no-store");
    },
  )
  .get("/", async (c, next) => {
    if ((await currentSession(c)) !== null) return next();
    return c.html(<LoginPage error={c.req.query("signin") === "failed" ? "That token is not this Worker's ADMIN_TOKEN." : undefined} />);
  })
  .get("/", listQuery(), async (c) => {
    const raw = c.req.query();
    const q = c.req.valid("query");
    const { db, config, now } = c.var.deps;
    const [stats, page, saved] = await Promise.all([
      ledgerStats(db, now()),
      listEvents(db, q.filter, q.cursor, q.limit),
      readJobStates(db, [BACKFILL_STATE, ENDPOINT_CHECK_STATE]),
    ]);
    const endpoint = saved.get(ENDPOINT_CHECK_STATE) as EndpointCheckState | undefined;
    const backfill = saved.get(BACKFILL_STATE) as BackfillState | undefined;
    return c.html(
      <EventsPage
        stats={stats}
        events={page.events}
        query={filterFields(raw)}
        nextCursor={encodeCursor(page.next)}
        window={page.window}
        notice={
          raw.replayed ? `Replayed ${raw.replayed} event(s): they are sent to the queue again and will be processed shortly.` : undefined
        }
        moreToReplay={raw.more === "1"}
        banner={
          <StatusBanner
            endpoint={endpoint?.report ?? null}
            backfill={backfillProgress(backfill ?? null)}
            keyConfigured={config.stripeApi.key !== null}
          />
        }
      />,
    );
  })
  // The form is one token field: a bigger body is not a sign-in, and is refused before it is buffered.
  .post("/login", csrf(), rateLimit(SIGNIN_LIMIT), bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
    // A malformed multipart body makes parseBody throw a TypeError: the client's mistake, not ours.
    const form = await c.req.parseBody().catch(() => {
      throw new ApiError(
        "request_invalid",
        "The sign-in form could not be read: " +
          "post it as application/x-www-form-urlencoded or multipart/form-data with a `token` field, as the form at /admin does.",
      );
    });
    const token = typeof form.token === "string" ? form.token.trim() : "";
    const adminToken = c.var.deps.config.adminToken!;
    if (!(await timingSafeEqual(token, adminToken))) {
      log("warn", "admin_signin_failed");
      return c.redirect("/admin?signin=failed", 303);
    }
    await signIn(c);
    return c.redirect("/admin", 303);
  })
  .post("/logout", csrf(), async (c) => {
    await signOut(c);
    return c.redirect("/admin", 303);
  })
  // Ends every session, on every browser: after a laptop was lost, or a cookie may have been copied.
  .post("/logout/everywhere", csrf(), requireSession, async (c) => {
    log("warn", "admin_signed_out_everywhere", { sessions: await signOutEverywhere(c) });
    return c.redirect("/admin", 303);
  })
  // The ledger's event, or the archive's (read-only: restore it to replay it) when retention moved it to R2.
  .get("/events/:id", requirePageSession, async (c) => {
    const event = await findEvent(c.var.deps, c.req.param("id"));
    if (event === null) throw eventNotFound(c.req.param("id"));
    return c.html(
      <EventPage
        event={event}
        notice={c.req.query("replayed") ? "Replayed: the event is sent to the queue again and will be processed shortly." : undefined}
      />,
    );
  })
  .route("/", consoleReplayRoutes)
  .route("/", consoleObjectRoutes)
  .route("/", consoleChartRoutes)
  .route("/", consoleHealthRoutes)
  .route("/", consoleBackfillRoutes)
  .route("/", consoleArchiveRoutes);
