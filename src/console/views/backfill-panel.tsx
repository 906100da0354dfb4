import { BACKFILL_TYPES } from "../../backfill/objects";
import type { BackfillProgress } from "../../backfill/state";
import { utc } from "./layout";

const LABELS: Record<(typeof BACKFILL_TYPES)[number], string> = {
  customers: "customers",
  products: "products",
  prices: "prices",
  subscriptions: "subscriptions",
  checkout_sessions: "Checkout Sessions",
  invoices: "invoices",
  payment_intents: "PaymentIntents",
  charges: "charges",
  entitlements: "customers' entitlements",
};

/**
 * The backfill's progress (objects imported per type) and its button: start, continue, resume after a
 * pause, or run again once done. Disabled without STRIPE_SECRET_KEY, which the import reads with.
 */
export function BackfillPanel(props: { progress: BackfillProgress; keyConfigured: boolean }) {
  const p = props.progress;
  const label = { not_started: "Start backfill", running: "Continue backfill", paused: "Resume backfill", done: "Run backfill again" }[
    p.status
  ];
  const state = {
    not_started: "not started",
    running: "in progress (the cron continues it every minute)",
    paused: "paused",
    done: `done${p.finished_at ? ` at ${utc(Date.parse(p.finished_at))}` : ""}`,
  }[p.status];
  return (
    <div class="panel" id="backfill" data-backfill-status={p.status}>
      <h2>Backfill: {state}</h2>
      <p class="muted">
        Imports the current state of every object below from Stripe's list APIs into the billing tables, through the same projection as
        events. No fulfilment hook runs for them: a backfill is not a purchase.
      </p>
      <p>
        {BACKFILL_TYPES.map((t, i) => (
          <span data-backfill-type={t}>
            {i > 0 && " · "}
            {LABELS[t]}: {p.types[t].imported}
            {p.types[t].done ? " ✓" : ""}
          </span>
        ))}
      </p>
      {(p.account !== null || p.accounts_done > 0) && (
        <p class="muted" data-backfill-account={p.account ?? ""}>
          Connected accounts finished: {p.accounts_done}
          {p.account ? `; now importing ${p.account}` : ""}.
        </p>
      )}
      {p.last_error && <div class="notice error">{p.last_error.message}</div>}
      <form method="post" action="/admin/backfill" class="actions">
        <button type="submit" disabled={!props.keyConfigured}>
          {label}
        </button>
        {!props.keyConfigured && <span class="muted"> Needs STRIPE_SECRET_KEY.</span>}
      </form>
    </div>
  );
}
