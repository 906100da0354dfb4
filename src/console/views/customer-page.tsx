import type { Child } from "hono/jsx";
import type { CustomerView } from "../../billing/customer-view";
import { CUSTOMER_LIST_LIMIT } from "../../billing/customer-view";
import { BillingRow, cellValue } from "./billing-row";
import { DataTable } from "./data-table";
import { Layout, money, objectHref, StatusBadge, utc } from "./layout";

/**
 * Everything the billing tables hold about one customer, and what it is entitled to, exactly as
 * `BillingService.entitlements()` answers other Workers.
 */
export function CustomerPage(props: { id: string; account: string; view: CustomerView }) {
  const { view, account } = props;
  const e = view.entitlements;
  const link = (id: string | null) => (id ? <a href={objectHref(id, account)}>{id}</a> : "—");
  return (
    <Layout title={props.id} signedIn={true}>
      <h2 class="mono">
        Customer {props.id}
        {account === "" ? "" : ` in ${account}`}
      </h2>
      <p>
        <a href={objectHref(props.id, account)}>Timeline of the customer's own events →</a>
      </p>
      <AppUsers view={view} account={account} />
      <div class="grid2">
        <div class="panel">
          <h2>Customer</h2>
          {view.customer ? (
            <BillingRow table="customers" row={view.customer} />
          ) : (
            <p class="muted">No customers row (no customer.* event processed yet).</p>
          )}
        </div>
        <div class="panel" data-entitled={String(e.entitled)}>
          <h2>Entitlements (as BillingService answers)</h2>
          <p>
            Entitled: <span class={e.entitled ? "yes" : "no"}>{e.entitled ? "yes" : "no"}</span>
            {e.deleted ? " (the customer is deleted)" : ""}
          </p>
          <p data-features={e.features.join(",")}>
            Features: {e.features.length === 0 ? <span class="muted">none</span> : <span class="mono">{e.features.join(", ")}</span>}
            {e.featuresComplete ? "" : " (incomplete: Stripe listed more than its summary carried and no API key could list the rest)"}
          </p>
          <DataTable
            rows={e.subscriptions}
            empty="No active or trialing subscription."
            columns={[
              { label: "Subscription", class: "mono", cell: (s) => link(s.id) },
              { label: "Status", cell: (s) => s.status },
              { label: "Plans", cell: (s) => s.plans.join(", ") || "—" },
              { label: "Prices", class: "mono", cell: (s) => s.priceIds.join(", ") + (s.itemsComplete ? "" : " (more not listed)") },
              { label: "Period end", cell: (s) => cellValue("currentPeriodEnd", s.currentPeriodEnd) },
            ]}
          />
          <DataTable
            rows={e.purchases}
            empty="No paid, unrefunded one-time purchase."
            columns={[
              { label: "Purchase", class: "mono", cell: (p) => link(p.checkoutSessionId) },
              { label: "Amount", cell: (p) => money(p.amountTotal, p.currency) },
            ]}
          />
        </div>
      </div>
      <TableSection
        title="Subscriptions"
        rows={view.subscriptions}
        empty="None."
        columns={[
          { label: "Subscription", class: "mono", cell: (s) => link(s.id) },
          { label: "Status", cell: (s) => s.status },
          { label: "Prices", class: "mono", cell: (s) => cellValue("priceIds", s.priceIds) },
          { label: "Period end", cell: (s) => cellValue("currentPeriodEnd", s.currentPeriodEnd) },
          { label: "Cancels at period end", cell: (s) => cellValue("", s.cancelAtPeriodEnd) },
          { label: "Last event", cell: (s) => utc(s.lastEventCreated * 1000) },
        ]}
      />
      <TableSection
        title="Invoices"
        rows={view.invoices}
        empty="None."
        columns={[
          { label: "Invoice", class: "mono", cell: (i) => link(i.id) },
          { label: "Subscription", class: "mono", cell: (i) => link(i.subscriptionId) },
          { label: "Status", cell: (i) => i.status ?? "—" },
          { label: "Paid / due", cell: (i) => `${money(i.amountPaid, i.currency)} / ${money(i.amountDue, i.currency)}` },
          { label: "Last event", cell: (i) => utc(i.lastEventCreated * 1000) },
        ]}
      />
      <Section title="Payments and refunds" count={view.paymentIntents.length + view.checkoutSessions.length}>
        <DataTable
          rows={view.paymentIntents}
          empty="No payment intents."
          columns={[
            { label: "Payment intent", class: "mono", cell: (p) => link(p.id) },
            { label: "Status", cell: (p) => p.status },
            { label: "Amount / received", cell: (p) => `${money(p.amount, p.currency)} / ${money(p.amountReceived, p.currency)}` },
            {
              label: "Refunded",
              cell: (p) => {
                const refunds = view.charges.filter((c) => c.paymentIntentId === p.id && c.amountRefunded > 0);
                return refunds.length === 0 ? "—" : refunds.map((c) => `${money(c.amountRefunded, c.currency)} (${c.id})`).join(", ");
              },
            },
            { label: "Last error", class: "err", cell: (p) => p.lastError ?? "" },
          ]}
        />
        <DataTable
          rows={view.checkoutSessions}
          empty="No Checkout Sessions."
          columns={[
            { label: "Checkout Session", class: "mono", cell: (s) => link(s.id) },
            { label: "Mode", cell: (s) => s.mode },
            { label: "Status / payment", cell: (s) => `${s.status ?? "—"} / ${s.paymentStatus}` },
            { label: "Amount", cell: (s) => money(s.amountTotal, s.currency) },
            { label: "Payment intent", class: "mono", cell: (s) => link(s.paymentIntentId) },
          ]}
        />
      </Section>
      <TableSection
        title="Fulfilments (once-only effects)"
        rows={view.fulfilments}
        empty="None ran for this customer's Checkout Sessions or invoices."
        columns={[
          { label: "Object", class: "mono", cell: (f) => link(f.objectId) },
          { label: "Kind", class: "mono", cell: (f) => f.kind },
          { label: "Status", cell: (f) => f.status },
          { label: "By event", class: "mono", cell: (f) => <a href={`/admin/events/${f.eventId}`}>{f.eventId}</a> },
          { label: "Completed", cell: (f) => utc(f.completedAt) },
        ]}
      />
      <TableSection
        title="Latest events about this customer and its objects"
        rows={view.events}
        empty="No event in the ledger (final events are deleted after LEDGER_RETENTION_DAYS)."
        rowAttrs={(ev) => ({ "data-event-id": ev.id })}
        columns={[
          { label: "Event", class: "mono", cell: (ev) => <a href={`/admin/events/${ev.id}`}>{ev.id}</a> },
          { label: "Type", class: "mono", cell: (ev) => ev.type },
          { label: "Object", class: "mono", cell: (ev) => link(ev.objectId) },
          { label: "Status", cell: (ev) => <StatusBadge status={ev.status} /> },
          { label: "Received", cell: (ev) => utc(ev.receivedAt) },
        ]}
      />
    </Layout>
  );
}

/**
 * The app user ids linked to the customer (by Checkout's `client_reference_id` or APP_USER_METADATA_KEY
 * metadata) and, as a conflict to resolve, other customers linked to the same user id.
 */
function AppUsers(props: { view: CustomerView; account: string }) {
  const { appUsers, appUserConflicts } = props.view;
  if (appUsers.length === 0) return <p class="muted">No app user id is linked to this customer.</p>;
  return (
    <div class="panel" data-app-user-conflicts={appUserConflicts.length}>
      <h2>App users</h2>
      <p>
        Linked to{" "}
        {appUsers.map((l) => (
          <>
            <code>{l.appUserId}</code> ({l.sources.join(", ")}){" "}
          </>
        ))}
      </p>
      {appUserConflicts.length > 0 && (
        <p class="warn">
          Conflict: the same app user id is also linked to{" "}
          {appUserConflicts.map((l) => (
            <>
              <a href={objectHref(l.customerId, props.account, "customers")}>{l.customerId}</a> (<code>{l.appUserId}</code>,{" "}
              {l.sources.join(", ")}){" "}
            </>
          ))}
          . BillingService.forUser() answers with every linked customer's rights and says <code>conflict: true</code> until one link is
          removed at Stripe.
        </p>
      )}
    </div>
  );
}

/** A panel with one of the customer's lists: its title, how many rows (and whether the list was cut), the table. */
function TableSection<R>(props: Parameters<typeof DataTable<R>>[0] & { title: string; count?: number }) {
  const count = props.count ?? props.rows.length;
  return (
    <Section title={props.title} count={count}>
      <DataTable {...props} />
    </Section>
  );
}

function Section(props: { title: string; count: number; children?: Child }) {
  return (
    <div class="panel">
      <h2>
        {props.title}{" "}
        <span class="muted">
          ({props.count}
          {props.count >= CUSTOMER_LIST_LIMIT ? `, the ${CUSTOMER_LIST_LIMIT} latest` : ""})
        </span>
      </h2>
      {props.children}
    </div>
  );
}
