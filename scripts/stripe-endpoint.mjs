#!/usr/bin/env node
import { parseArgs } from "node:util";
// Creates or updates the Stripe webhook endpoint of a deployed Worker:
//
//   npm run stripe:endpoint -- --url https://<worker>.<subdomain>.workers.dev [--dry-run] [--recreate]
//                              [--endpoint we_…] [--create]
//
// --url is the Worker's base URL; /webhooks/stripe is appended. Needs STRIPE_SECRET_KEY (environment,
// else .dev.vars) with write access to Webhook Endpoints; STRIPE_API_BASE is honoured.
// - The endpoint is the one posting to that URL (or, with --endpoint, the one named); none: it is
//   created, with metadata marking it as this script's. An endpoint of this script's posting to
//   another URL is never taken silently: --endpoint we_… moves it, --create makes a separate one.
// - enabled_events becomes exactly scripts/stripe-listen-events.json (the types the handlers use,
//   the list `stripe listen` forwards); a new endpoint gets the API version the stripe SDK pins.
// - Stripe cannot change an existing endpoint's API version: a difference is reported, and only
//   --recreate replaces the endpoint (new endpoint and secret, rotation steps, old one deleted last).
// - A new signing secret is printed once, with the `wrangler secret put` step. --dry-run changes nothing.
import Stripe from "stripe";
import { withWebhookPath } from "../src/config/webhook-path.ts";
import { compareEndpoint, describeDrift, MANAGED_BY } from "../src/stripe/endpoint-drift.ts";
import { stripeApiBaseOrExit } from "./lib/api-base.mjs";
import { readDevVar } from "./lib/dev-vars.mjs";
import { EVENTS } from "./lib/stripe-cli.mjs";

const MARKER = { [MANAGED_BY.key]: MANAGED_BY.value };
const DESCRIPTION = "Stripe webhook receiver on Cloudflare Workers (managed by npm run stripe:endpoint)";
/** How long the replaced secret keeps verifying in the rotation form: long enough for Stripe's in-flight retries to land. */
const OLD_SECRET_HOURS = 24;

let options;
try {
  options = parseArgs({
    options: {
      url: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      recreate: { type: "boolean", default: false },
      endpoint: { type: "string" },
      create: { type: "boolean", default: false },
    },
  }).values;
} catch (err) {
  usage(err.message);
}
const target = { url: webhookUrl(options.url), eventTypes: EVENTS, apiVersion: Stripe.API_VERSION };
const dryRun = options["dry-run"];
const key = process.env.STRIPE_SECRET_KEY?.trim() || readDevVar("STRIPE_SECRET_KEY");
if (!key) {
  console.error(
    "STRIPE_SECRET_KEY is not set (in the environment or .dev.vars). " +
      "Use a key that may write Webhook Endpoints, e.g. STRIPE_SECRET_KEY=sk_test_… npm run stripe:endpoint -- --url …",
  );
  process.exit(1);
}
const apiBase = stripeApiBaseOrExit();
const stripe = new Stripe(key, { host: apiBase.host, port: apiBase.port, protocol: apiBase.protocol, maxNetworkRetries: 2 });

console.log(`Stripe API: ${apiBase.origin}${apiBase.isDefault ? "" : " (STRIPE_API_BASE)"}. Endpoint URL: ${target.url}`);
try {
  const existing = await findEndpoint();
  if (!existing) await create();
  else await update(existing);
} catch (err) {
  if (!(err instanceof Stripe.errors.StripeError)) throw err;
  const hint = err.statusCode === 401 || err.statusCode === 403 ? " The key must be allowed to read and write Webhook Endpoints." : "";
  console.error(`The Stripe API refused the request${err.statusCode ? ` (${err.statusCode})` : ""}: ${err.message}${hint}`);
  process.exit(1);
}

/** The endpoint to update, null to create one; refuses (exit 1) rather than guess between several. */
async function findEndpoint() {
  const all = [];
  for await (const endpoint of stripe.webhookEndpoints.list({ limit: 100 })) all.push(endpoint);
  if (options.endpoint) {
    const named = all.find((e) => e.id === options.endpoint);
    if (!named) refuse(`There is no webhook endpoint ${options.endpoint} in this account.`);
    return named;
  }
  const ours = (e) => e.metadata?.managed_by === MARKER.managed_by;
  const byUrl = all.filter((e) => e.url === target.url);
  const candidates = byUrl.length > 1 && byUrl.some(ours) ? byUrl.filter(ours) : byUrl;
  if (candidates.length === 1) return candidates[0];
  if (candidates.length > 1) {
    refuse(
      `${candidates.length} endpoints post to ${target.url}: ${list(candidates)}. Each delivers every event again. ` +
        "Delete the extra ones in the Dashboard, or pass --endpoint we_… to choose.",
    );
  }
  const elsewhere = all.filter(ours);
  if (elsewhere.length > 0 && !options.create) {
    refuse(
      `No endpoint posts to ${target.url}, but this script made ${list(elsewhere)}. ` +
        "Pass --endpoint we_… to move one to this URL, or --create to add a separate endpoint (e.g. for a second Worker).",
    );
  }
  return null;
}

async function create({ replacing } = {}) {
  const params = {
    url: target.url,
    enabled_events: [...EVENTS],
    api_version: target.apiVersion,
    description: DESCRIPTION,
    metadata: MARKER,
  };
  console.log(
    `${dryRun ? "Would create" : "Creating"} an endpoint for ${target.url}: ` +
      `${EVENTS.length} event types, API version ${target.apiVersion}.`,
  );
  if (dryRun) return dryRunDone(replacing ? `then delete ${replacing.id}` : undefined);
  const created = await stripe.webhookEndpoints.create(params);
  console.log(`Created ${created.id}.`);
  printSecretSteps(created.secret, { rotation: Boolean(replacing) });
  return created;
}

async function update(endpoint) {
  const drift = compareEndpoint(endpoint, target);
  console.log(
    `Found ${endpoint.id}${endpoint.metadata?.managed_by === MARKER.managed_by ? " (made by this script)" : ""}: ` +
      `API version ${endpoint.api_version ?? "(account default)"}, ${endpoint.enabled_events.length} event type(s), ${endpoint.status}.`,
  );
  for (const { level, message } of describeDrift(drift)) console.log(`${level}: ${message}`);

  if (drift.apiVersion && options.recreate) return recreate(endpoint);
  if (!drift.apiVersion && options.recreate)
    console.log(`The endpoint already uses API version ${target.apiVersion}: nothing to recreate.`);

  const changes = {};
  const lines = [];
  if (drift.missing.length > 0 || drift.unhandled.length > 0) {
    changes.enabled_events = [...EVENTS];
    if (drift.missing.length > 0) lines.push(`  + enabled_events: ${drift.missing.join(", ")}`);
    if (drift.unhandled.length > 0) lines.push(`  - enabled_events: ${drift.unhandled.join(", ")}`);
  }
  if (drift.url) {
    changes.url = target.url;
    lines.push(`  ~ url: ${drift.url.endpoint} → ${drift.url.expected}`);
  }
  if (endpoint.metadata?.managed_by !== MARKER.managed_by) {
    changes.metadata = MARKER;
    lines.push(`  + metadata.managed_by: ${MARKER.managed_by}`);
  }
  if (drift.apiVersion)
    console.log("The API version stays as it is (Stripe cannot change it in place): run again with --recreate to replace the endpoint.");

  if (lines.length === 0) {
    console.log(`${endpoint.id} is up to date: nothing to change.`);
    return;
  }
  console.log(`${dryRun ? "Would change" : "Changing"} ${endpoint.id}:\n${lines.join("\n")}`);
  if (dryRun) return dryRunDone();
  await stripe.webhookEndpoints.update(endpoint.id, changes);
  console.log(`Updated ${endpoint.id}. Its signing secret is unchanged: nothing to do with wrangler.`);
}

/** A new endpoint at the SDK's version replaces the old one, which is deleted only once the new one exists. */
async function recreate(old) {
  console.log(
    `Recreating: a new endpoint with API version ${target.apiVersion} replaces ${old.id} (${old.api_version ?? "account default"}).`,
  );
  const created = await create({ replacing: old });
  if (!created) return;
  await stripe.webhookEndpoints.del(old.id);
  console.log(
    `Deleted ${old.id}. Until the new secret is put, Stripe's deliveries from ${created.id} are refused (signature_invalid) ` +
      "and retried for up to three days; the Worker records each event once, so none is lost or doubled.",
  );
}

function printSecretSteps(secret, { rotation }) {
  const until = new Date(Date.now() + OLD_SECRET_HOURS * 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const rotationStep = `${secret},<the secret configured now>@${until}`;
  console.log(`
The new endpoint's signing secret is shown once, below (the Dashboard can reveal it later). Put it into the Worker:
  npx wrangler secret put STRIPE_WEBHOOK_SECRET`);
  if (rotation) {
    console.log(`and paste (the new secret, then the one configured now, which stops verifying after ${OLD_SECRET_HOURS} h):
  ${rotationStep}
After ${until}, put the new secret alone. See "Secret rotation" in README.md.`);
  } else {
    console.log(`and paste:
  ${secret}
If STRIPE_WEBHOOK_SECRET already holds a secret (e.g. of an endpoint made in the Dashboard), paste instead
  ${rotationStep}
so both verify for ${OLD_SECRET_HOURS} h (see "Secret rotation" in README.md).`);
  }
}

function dryRunDone(then) {
  console.log(`Dry run${then ? ` (would ${then})` : ""}: nothing was changed.`);
}

function webhookUrl(raw) {
  if (!raw) usage("--url is required: the Worker's base URL, e.g. --url https://stripe-webhooks.example.workers.dev");
  let url;
  try {
    url = new URL(raw);
  } catch {
    usage(`--url is not an absolute URL: ${raw}`);
  }
  if (url.protocol !== "https:") usage("--url must start with https:// (Stripe delivers only to HTTPS endpoints in live mode).");
  return withWebhookPath(url);
}

function list(endpoints) {
  return endpoints.map((e) => `${e.id} (${e.url})`).join(", ");
}

function refuse(message) {
  console.error(message);
  process.exit(1);
}

function usage(message) {
  console.error(
    `${message}\nUsage: npm run stripe:endpoint -- --url https://<worker>.<subdomain>.workers.dev [--dry-run] [--recreate] ` +
      "[--endpoint we_…] [--create]",
  );
  process.exit(2);
}
