// No imports: `npm run stripe:endpoint` (plain Node, types stripped) runs this same comparison,
// and the Worker runs it against the endpoints it reads from the API (src/endpoint-check/).

/** The metadata `npm run stripe:endpoint` puts on the endpoints it creates or adopts. */
export const MANAGED_BY = { key: "managed_by", value: "stripe-webhook-worker" } as const;

/** What this Worker needs from its Stripe webhook endpoint. */
export interface EndpointTarget {
  url: string;
  /** The event types the registered handlers use (scripts/stripe-listen-events.json). */
  eventTypes: readonly string[];
  /** The API version the installed stripe SDK pins (`Stripe.API_VERSION`). */
  apiVersion: string;
}

/** The fields of a Stripe webhook endpoint (`GET /v1/webhook_endpoints/{id}`) the comparison reads. */
export interface EndpointSnapshot {
  url: string;
  enabled_events: readonly string[];
  /** Null when the endpoint renders events in the account's default version. */
  api_version: string | null;
  status?: string;
}

/** How an endpoint differs from what the Worker needs. Every list is sorted. */
export interface EndpointDrift {
  /** Handled types the endpoint does not send: those events never arrive (a warning). */
  missing: string[];
  /** Types the endpoint sends that no handler uses: recorded as `ignored`, each one a request (informational). */
  unhandled: string[];
  /** The endpoint sends every type (`*`): nothing is missing, but everything unhandled costs requests. */
  wildcard: boolean;
  /** Set when the API version differs. Stripe cannot change it on an existing endpoint: only a new one fixes it. */
  apiVersion: { endpoint: string | null; expected: string } | null;
  /** Set when the URL differs. */
  url: { endpoint: string; expected: string } | null;
  /** Stripe sends nothing to a disabled endpoint (a warning). */
  disabled: boolean;
  /** True when nothing differs. */
  inSync: boolean;
}

/**
 * Compares a webhook endpoint with what the Worker needs. Pure: no API calls.
 *
 * @example
 * const drift = compareEndpoint(await stripe.webhookEndpoints.retrieve(id), { url, eventTypes, apiVersion: Stripe.API_VERSION });
 * for (const { level, message } of describeDrift(drift)) console.log(level, message);
 */
export function compareEndpoint(endpoint: EndpointSnapshot, target: EndpointTarget): EndpointDrift {
  const enabled = new Set(endpoint.enabled_events);
  const wanted = new Set(target.eventTypes);
  const wildcard = enabled.has("*");
  const missing = wildcard ? [] : [...wanted].filter((t) => !enabled.has(t)).sort();
  const unhandled = [...enabled].filter((t) => !wanted.has(t)).sort();
  const apiVersion = endpoint.api_version === target.apiVersion ? null : { endpoint: endpoint.api_version, expected: target.apiVersion };
  const url = endpoint.url === target.url ? null : { endpoint: endpoint.url, expected: target.url };
  const disabled = endpoint.status === "disabled";
  return {
    missing,
    unhandled,
    wildcard,
    apiVersion,
    url,
    disabled,
    inSync: missing.length === 0 && unhandled.length === 0 && !apiVersion && !url && !disabled,
  };
}

/**
 * One line per difference, for logs, /health, the console and the scripts: `warning` loses events or
 * misreads them, `info` costs requests.
 */
export function describeDrift(drift: EndpointDrift): { level: "warning" | "info"; message: string }[] {
  const lines: { level: "warning" | "info"; message: string }[] = [];
  if (drift.disabled)
    lines.push({
      level: "warning",
      message: "The endpoint is disabled: Stripe sends it nothing. Enable it in the Dashboard (Developers → Webhooks).",
    });
  if (drift.missing.length > 0) {
    lines.push({
      level: "warning",
      message:
        `${drift.missing.length} handled event type(s) are not enabled on the endpoint, so Stripe never sends them: ` +
        `${drift.missing.join(", ")}.`,
    });
  }
  if (drift.apiVersion) {
    lines.push({
      level: "warning",
      message:
        `The endpoint renders events in API version ${drift.apiVersion.endpoint ?? "(the account's default)"}, ` +
        `the stripe SDK expects ${drift.apiVersion.expected}. Stripe cannot change an existing endpoint's version: ` +
        "recreate it (npm run stripe:endpoint -- --recreate).",
    });
  }
  if (drift.url) lines.push({ level: "warning", message: `The endpoint posts to ${drift.url.endpoint}, not ${drift.url.expected}.` });
  if (drift.wildcard)
    lines.push({
      level: "info",
      message: "The endpoint sends every event type (*): each one no handler uses is a request recorded as ignored.",
    });
  else if (drift.unhandled.length > 0) {
    lines.push({
      level: "info",
      message:
        `${drift.unhandled.length} enabled event type(s) have no handler (delivered, recorded as ignored, each a request): ` +
        `${drift.unhandled.join(", ")}.`,
    });
  }
  return lines;
}
