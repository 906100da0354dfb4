// No imports: the npm scripts (plain Node, types stripped) parse STRIPE_API_BASE with this same file.

/** Where Stripe's API lives when STRIPE_API_BASE is unset. */
export const DEFAULT_STRIPE_API_BASE = "https://api.stripe.com";

/** A parsed STRIPE_API_BASE, in the pieces the Stripe SDK takes (`host`, `port`, `protocol`). */
export interface StripeApiBase {
  /** The normalised origin, e.g. `https://api.stripe.com` or `http://127.0.0.1:12111`. */
  origin: string;
  protocol: "https" | "http";
  /** Host name as the SDK puts it in a URL (an IPv6 address keeps its brackets). */
  host: string;
  port: number;
  /** True when this is Stripe's own API. */
  isDefault: boolean;
}

export type StripeApiBaseResult = { ok: true; base: StripeApiBase } | { ok: false; message: string };

/**
 * Parses STRIPE_API_BASE: unset or blank means Stripe's API; otherwise an `https://` origin, or an
 * `http://` one only on a loopback address (127.0.0.0/8, ::1, localhost), because the API key
 * travels in every request. Never throws and never repeats the value (it may hold credentials).
 *
 * @example
 * const result = parseStripeApiBase(env.STRIPE_API_BASE);
 * if (result.ok) new Stripe(key, { host: result.base.host, port: result.base.port, protocol: result.base.protocol });
 */
export function parseStripeApiBase(raw: string | undefined): StripeApiBaseResult {
  const value = (raw ?? "").trim();
  if (value === "") return { ok: true, base: fromUrl(new URL(DEFAULT_STRIPE_API_BASE)) };
  const refuse = (why: string): StripeApiBaseResult => ({
    ok: false,
    message:
      `STRIPE_API_BASE ${why}. Leave it empty for Stripe's API (${DEFAULT_STRIPE_API_BASE}), ` +
      "or set an origin such as https://stripe-proxy.example.com or http://127.0.0.1:12111 (plain http only on a loopback address).",
  });
  const url = parseSecureUrl(value, "the API key");
  if (typeof url === "string") return refuse(url);
  if (url.username !== "" || url.password !== "") return refuse("must not contain a user name or password");
  if ((url.pathname !== "/" && url.pathname !== "") || url.search !== "" || url.hash !== "") {
    return refuse("must be an origin only, without a path, query or fragment (the Stripe SDK adds /v1/… itself)");
  }
  return { ok: true, base: fromUrl(url) };
}

function fromUrl(url: URL): StripeApiBase {
  const protocol = url.protocol === "http:" ? "http" : "https";
  const port = url.port === "" ? (protocol === "https" ? 443 : 80) : Number(url.port);
  return { origin: url.origin, protocol, host: url.hostname, port, isDefault: url.origin === DEFAULT_STRIPE_API_BASE };
}

/**
 * An absolute `https://` URL, or `http://` only on a loopback address, because `secret` travels with
 * every request to it; otherwise why not, as the end of a sentence that starts with the variable's name.
 *
 * @example
 * const url = parseSecureUrl(raw, "the API key");
 * if (typeof url === "string") return `STRIPE_API_BASE ${url}.`;
 */
export function parseSecureUrl(raw: string, secret: string): URL | string {
  const url = URL.parse(raw);
  if (!url) return "is not an absolute URL";
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must start with https:// (or http:// for a loopback address)";
  if (url.protocol === "http:" && !isLoopback(url.hostname)) {
    return `uses plain http:// for an address that is not loopback, which would send ${secret} unencrypted; use https://`;
  }
  return url;
}

/** 127.0.0.0/8, ::1 and localhost: addresses that never leave the machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === "localhost" || host === "[::1]") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
