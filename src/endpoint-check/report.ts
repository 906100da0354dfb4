import { WEBHOOK_PATH } from "../config/webhook-path";
import { compareEndpoint, describeDrift, type EndpointSnapshot, MANAGED_BY } from "../stripe/endpoint-drift";

/** An endpoint as the list API returns it, with the fields the check reads. */
export type ListedEndpoint = EndpointSnapshot & { id: string; metadata?: Record<string, string> | null };

/** How the check chose the endpoints it compared (see `selectEndpoints`). */
export type FoundBy = "WEBHOOK_URL" | "managed_by" | "path";

/** The result of one drift check, as stored in job_state and shown by /health, the admin API and the console. */
export interface EndpointReport {
  /** ISO 8601. */
  checked_at: string;
  found_by: FoundBy | null;
  /** Each endpoint compared, with what it lacks (`missing`: a warning) and what it sends unhandled (`unhandled`: informational). */
  endpoints: {
    id: string;
    url: string;
    status: string | null;
    api_version: string | null;
    missing: string[];
    unhandled: string[];
    wildcard: boolean;
  }[];
  /** Handled types Stripe never sends, a disabled endpoint, another API version, no endpoint at all, or a failed check. */
  warnings: string[];
  /** Enabled types no handler uses (each one a request recorded as `ignored`). */
  info: string[];
}

/** What the check compares against: the handled snapshot types, the API version the SDK pins, and WEBHOOK_URL when set. */
export interface CheckTarget {
  eventTypes: readonly string[];
  apiVersion: string;
  webhookUrl: string | null;
  /** True when this Worker has processed thin events but never a snapshot one (an event destination serves it). */
  thinOnly: boolean;
}

/**
 * Picks this Worker's endpoints among the account's: those posting to WEBHOOK_URL when it is set;
 * otherwise the one marked `metadata.managed_by=stripe-webhook-worker` (what `npm run stripe:endpoint`
 * sets), else the one whose URL ends in `/webhooks/stripe`. Several candidates without WEBHOOK_URL are
 * ambiguous: none is picked, and `problem` says to set WEBHOOK_URL. Pure.
 *
 * @example
 * const { endpoints, foundBy } = selectEndpoints(listed, null);
 */
export function selectEndpoints(
  all: readonly ListedEndpoint[],
  webhookUrl: string | null,
): { endpoints: ListedEndpoint[]; foundBy: FoundBy | null; problem?: string } {
  const list = (es: readonly ListedEndpoint[]) => es.map((e) => `${e.id} (${e.url})`).join(", ");
  if (webhookUrl !== null) {
    const atUrl = all.filter((e) => e.url === webhookUrl);
    if (atUrl.length === 0)
      return {
        endpoints: [],
        foundBy: null,
        problem:
          `No webhook endpoint posts to ${webhookUrl} (WEBHOOK_URL), so Stripe sends this Worker no snapshot events. ` +
          `Create it: npm run stripe:endpoint -- --url ${new URL(webhookUrl).origin}.`,
      };
    return { endpoints: atUrl, foundBy: "WEBHOOK_URL" };
  }
  for (const [foundBy, candidates] of [
    ["managed_by", all.filter((e) => e.metadata?.[MANAGED_BY.key] === MANAGED_BY.value)],
    ["path", all.filter((e) => URL.parse(e.url)?.pathname.replace(/\/+$/, "").endsWith(WEBHOOK_PATH))],
  ] as const) {
    if (candidates.length === 1) return { endpoints: candidates, foundBy };
    if (candidates.length > 1) {
      return {
        endpoints: [],
        foundBy: null,
        problem:
          `${candidates.length} webhook endpoints could be this Worker's: ${list(candidates)}. ` +
          "Set WEBHOOK_URL to this Worker's URL (e.g. https://stripe-webhooks.<subdomain>.workers.dev) " +
          "so the check compares the right one.",
      };
    }
  }
  return {
    endpoints: [],
    foundBy: null,
    problem:
      "No webhook endpoint of this Worker was found: " +
      `none is marked metadata.${MANAGED_BY.key}=${MANAGED_BY.value} and none posts to a URL ending in ${WEBHOOK_PATH}. ` +
      "Create one with npm run stripe:endpoint -- --url https://<worker>.<subdomain>.workers.dev, or set WEBHOOK_URL.",
  };
}

/**
 * Builds the report: the endpoints `selectEndpoints` picks, each compared with the target by
 * `compareEndpoint`, its warning lines in `warnings` and informational ones in `info`, prefixed with
 * the endpoint's id. An endpoint not found is a warning, except for a Worker that has only ever
 * received thin events (an event destination, which this check does not read): then it is informational.
 * Pure.
 *
 * @example
 * const target = { eventTypes: handlers.types(), apiVersion: Stripe.API_VERSION, webhookUrl: null, thinOnly: false };
 * const report = endpointReport(listed, target, Date.now());
 */
export function endpointReport(all: readonly ListedEndpoint[], target: CheckTarget, nowMs: number): EndpointReport {
  const report: EndpointReport = { checked_at: new Date(nowMs).toISOString(), found_by: null, endpoints: [], warnings: [], info: [] };
  const selected = selectEndpoints(all, target.webhookUrl);
  report.found_by = selected.foundBy;
  if (selected.problem) {
    if (target.thinOnly && selected.endpoints.length === 0)
      report.info.push(
        `${selected.problem} This Worker has only received thin events, so an event destination probably serves it (not checked here).`,
      );
    else report.warnings.push(selected.problem);
  }
  if (selected.endpoints.length > 1) {
    report.warnings.push(
      `${selected.endpoints.length} webhook endpoints post to ${target.webhookUrl}: ${selected.endpoints.map((e) => e.id).join(", ")}. ` +
        "Each sends every event again (recorded once, but each delivery is a request): delete the extra ones.",
    );
  }
  for (const endpoint of selected.endpoints) {
    const drift = compareEndpoint(endpoint, {
      url: target.webhookUrl ?? endpoint.url,
      eventTypes: target.eventTypes,
      apiVersion: target.apiVersion,
    });
    report.endpoints.push({
      id: endpoint.id,
      url: endpoint.url,
      status: endpoint.status ?? null,
      api_version: endpoint.api_version,
      missing: drift.missing,
      unhandled: drift.unhandled,
      wildcard: drift.wildcard,
    });
    for (const line of describeDrift(drift))
      (line.level === "warning" ? report.warnings : report.info).push(`${endpoint.id}: ${line.message}`);
  }
  return report;
}
