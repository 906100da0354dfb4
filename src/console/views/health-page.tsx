import type { HealthReport } from "../../health/report";
import { Layout } from "./layout";

const LABELS: Record<keyof HealthReport["checks"], string> = {
  webhook_secret: "Webhook signing secrets (STRIPE_WEBHOOK_SECRET)",
  settings: "Settings",
  database: "Database (D1)",
  stripe_api: "Stripe API key (STRIPE_SECRET_KEY)",
  endpoint: "Webhook endpoint drift check",
  capacity: "Capacity: months until the database is full (a plan)",
};

/**
 * The operator's health report, check by check, exactly as `GET /admin/api/health` answers it: what
 * fails and why, each warning, and the counts; `GET /health` tells the public only ok or a code.
 */
export function HealthPage(props: { report: HealthReport }) {
  const { report } = props;
  return (
    <Layout title="Health" signedIn={true}>
      <h2>Health</h2>
      {report.ok ? (
        <div class="notice">Deliveries are verified and recorded. GET /health answers 200 ok.</div>
      ) : (
        <div class="notice error" role="alert">
          Deliveries are refused or cannot be recorded (Stripe retries them): GET /health answers 503 {report.code}.
        </div>
      )}
      {(Object.keys(LABELS) as (keyof HealthReport["checks"])[]).map((name) => {
        const check = report.checks[name] as { ok: boolean; message?: string; warnings?: string[]; info?: string[] } & Record<
          string,
          unknown
        >;
        const facts = Object.entries(check).filter(([k]) => !["ok", "message", "warnings", "info"].includes(k));
        return (
          <div class="panel" data-check={name}>
            <h2>
              {LABELS[name]}: <span class={check.ok ? "yes" : "no"}>{check.ok ? "ok" : "failing"}</span>
            </h2>
            {check.message && (
              <div class="notice error" role="alert">
                {check.message}
              </div>
            )}
            {(check.warnings ?? []).map((w) => (
              <div class="warn">{w}</div>
            ))}
            {(check.info ?? []).map((i) => (
              <p class="muted">{i}</p>
            ))}
            {facts.length > 0 && <p class="muted mono">{facts.map(([k, v]) => `${k}: ${fact(v)}`).join(" · ")}</p>}
          </div>
        );
      })}
    </Layout>
  );
}

/** A fact of a check as text: a list joined, a record as `key value` pairs (the capacity's months by rate). */
function fact(value: unknown): string {
  if (Array.isArray(value)) return value.join(", ") || "none";
  if (value !== null && typeof value === "object")
    return Object.entries(value)
      .map(([k, v]) => `${k} ${String(v)}`)
      .join(", ");
  return String(value);
}
