import { Layout } from "./layout";

/** The sign-in form: the token is posted once and exchanged for an HttpOnly session cookie. */
export function LoginPage(props: { error?: string }) {
  return (
    <Layout title="Sign in" signedIn={false}>
      <div class="panel login">
        <h2>Operator sign-in</h2>
        {props.error && <div class="notice error">{props.error}</div>}
        <form method="post" action="/admin/login">
          <label>
            Admin token
            <input type="password" name="token" autocomplete="current-password" required autofocus />
          </label>
          <button type="submit">Sign in</button>
          <p class="muted">The token is the ADMIN_TOKEN secret of this Worker.</p>
        </form>
      </div>
    </Layout>
  );
}
