import type { Child } from "hono/jsx";
import { STYLES } from "./styles";

/**
 * The page shell shared by every console page; `signedIn` shows the navigation, the search box (any
 * Stripe id: the search is a plain GET form, so it works without JavaScript) and the sign-out button.
 */
export function Layout(props: { title: string; signedIn: boolean; children?: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="robots" content="noindex" />
        <title>{props.title} · Stripe webhooks</title>
        {/* Raw on purpose: escaping would turn the stylesheet's quotes into entities. STYLES is a constant. */}
        <style dangerouslySetInnerHTML={{ __html: STYLES }} />
      </head>
      <body>
        <header>
          <h1>
            <a href="/admin">Stripe webhooks</a>
          </h1>
          {props.signedIn && (
            <>
              <nav>
                <a href="/admin">Events</a>
                <a href="/admin/charts">Charts</a>
                <a href="/admin/archive">Archive</a>
                <a href="/admin/health">Health</a>
              </nav>
              {/* biome-ignore lint/a11y/useSemanticElements: the form is the search landmark itself; a <search> wrapper would add
                  a flex item the header would have to style */}
              <form class="search" method="get" action="/admin/objects" role="search">
                <input name="id" placeholder="evt_, cus_, sub_, in_, cs_, pi_, ch_, re_ …" aria-label="Stripe id" required />
                <input name="account" placeholder="acct_… (Connect)" aria-label="Connected account (blank: the platform)" size={14} />
                <button type="submit">Search</button>
              </form>
              <form method="post" action="/admin/logout">
                <button type="submit" class="signout">
                  Sign out
                </button>
              </form>
              <form method="post" action="/admin/logout/everywhere">
                <button type="submit" class="signout" title="Ends every console session, on every browser">
                  Sign out everywhere
                </button>
              </form>
            </>
          )}
        </header>
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/** A status pill coloured by outcome. */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge s-${props.status}`}>{props.status}</span>;
}

/** An amount in a currency's minor unit as people read it: `12.50 USD`, `1200 JPY`. */
export function money(amount: number | null, currency: string | null): string {
  if (amount === null) return "—";
  const code = (currency ?? "").toUpperCase();
  return ZERO_DECIMAL.has(code) ? `${amount} ${code}` : `${(amount / 100).toFixed(2)} ${code}`;
}

// Stripe's zero-decimal currencies: amounts are already whole units.
const ZERO_DECIMAL = new Set([
  "BIF",
  "CLP",
  "DJF",
  "GNF",
  "JPY",
  "KMF",
  "KRW",
  "MGA",
  "PYG",
  "RWF",
  "UGX",
  "VND",
  "VUV",
  "XAF",
  "XOF",
  "XPF",
]);

/** Unix ms as a UTC time an operator can compare with Stripe's Dashboard and Workers Logs. */
export function utc(ms: number | null): string {
  return ms === null
    ? "—"
    : new Date(ms)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d{3}Z$/, " UTC");
}

/** A query string of the fields that have a value: an empty or absent field is left out of links. */
export function queryString(fields: object): string {
  return new URLSearchParams(
    Object.entries(fields).filter((entry): entry is [string, string] => typeof entry[1] === "string" && entry[1] !== ""),
  ).toString();
}

/**
 * The console's page for a Stripe object (or, with `customers`, a customer) in an account: a connected
 * account's objects carry `?account=acct_…`, the platform's own none.
 */
export function objectHref(id: string, account = "", page: "objects" | "customers" = "objects"): string {
  return `/admin/${page}/${encodeURIComponent(id)}${account === "" ? "" : `?${queryString({ account })}`}`;
}
