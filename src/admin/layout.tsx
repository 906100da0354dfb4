import type { Child } from "hono/jsx";
import { STYLES } from "./styles";

/** The page shell shared by every console page; `signedIn` shows the sign-out button. */
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
            <a href="/admin">Stripe webhooks · events</a>
          </h1>
          {props.signedIn && (
            <form method="post" action="/admin/logout">
              <button type="submit">Sign out</button>
            </form>
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

/** Unix ms as a UTC time an operator can compare with Stripe's Dashboard and Workers Logs. */
export function utc(ms: number | null): string {
  return ms === null ? "—" : new Date(ms).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, " UTC");
}
