import type { EndpointReport } from "../../endpoint-check/report";
import { utc } from "./layout";

/**
 * The last endpoint drift check, when it found something: warnings (handled event types Stripe never
 * sends, a disabled endpoint, …) in red, informational lines (enabled types no handler uses) muted.
 * Renders nothing when the endpoint is in sync or was never checked.
 */
export function EndpointWarning(props: { report: EndpointReport | null }) {
  const r = props.report;
  if (!r || (r.warnings.length === 0 && r.info.length === 0)) return null;
  return (
    <div class="panel" id="endpoint-drift">
      <h2>Webhook endpoint (checked {utc(Date.parse(r.checked_at))})</h2>
      {r.warnings.map((w) => (
        <div class="notice error" role="alert">
          {w}
        </div>
      ))}
      {r.info.map((i) => (
        <p class="muted">{i}</p>
      ))}
      <p class="muted">Fix it with npm run stripe:endpoint; check again with GET /admin/api/endpoint.</p>
    </div>
  );
}
