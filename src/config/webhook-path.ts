// No imports: `npm run stripe:endpoint` (plain Node, types stripped) builds endpoint URLs with this
// same file.

/** The path Stripe webhook endpoints post snapshot events to (src/routes/webhooks.ts serves it, and `/thin` below it). */
export const WEBHOOK_PATH = "/webhooks/stripe";

/**
 * A Worker's base URL as given to `stripe:endpoint --url` or WEBHOOK_URL, as the endpoint URL Stripe
 * posts to: `/webhooks/stripe` appended unless the path already ends with it, trailing slashes dropped.
 */
export function withWebhookPath(url: URL): string {
  const path = url.pathname.replace(/\/+$/, "");
  return `${url.origin}${path.endsWith(WEBHOOK_PATH) ? path : `${path}${WEBHOOK_PATH}`}`;
}
