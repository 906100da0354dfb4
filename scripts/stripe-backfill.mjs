#!/usr/bin/env node
// Runs the backfill of a deployed (or local) Worker to the end, printing progress:
//
//   npm run stripe:backfill -- --url https://<worker>.<subdomain>.workers.dev [--status] [--pause 10]
//
// It talks to the Worker's admin API only (POST /admin/api/backfill, which imports one bounded slice
// per call), never to Stripe: the Worker reads Stripe with its own STRIPE_SECRET_KEY. Needs
// ADMIN_TOKEN (environment, else .dev.vars). Each POST does a slice of work, so calling again at once
// is no tight loop; after an answer that asks to wait (the API rate-limited the Worker, Stripe's API
// unavailable, another run holding the backfill, the admin API's own 429) it waits --pause seconds
// (or Retry-After). Exits 0 when done, 1 when paused or refused (the reason printed), 2 on bad usage.
// --status prints the progress once and starts nothing.
import { parseArgs } from "node:util";
import { isLoopback } from "../src/config/api-base.ts";
import { setting } from "./lib/dev-vars.mjs";

/** Run outcomes after which calling again at once would only meet the same answer. */
const WAIT_AFTER = new Set(["busy", "rate_limited", "api_unavailable"]);

let options;
try {
  options = parseArgs({
    options: { url: { type: "string" }, status: { type: "boolean", default: false }, pause: { type: "string", default: "10" } },
  }).values;
} catch (err) {
  usage(err.message);
}
const base = workerOrigin(options.url);
const pauseMs = Number(options.pause) * 1000;
if (!Number.isFinite(pauseMs) || pauseMs < 0) usage("--pause must be a number of seconds.");
const token = setting("ADMIN_TOKEN");
if (!token) {
  console.error(
    "ADMIN_TOKEN is not set (in the environment or .dev.vars): the Worker's admin token, as put with `wrangler secret put ADMIN_TOKEN`.",
  );
  process.exit(1);
}

if (options.status) {
  print(await call("GET"));
  process.exit(0);
}
console.log(`Backfilling ${base} (each call imports up to 10 pages of 100 objects; the Worker's cron also continues it every minute).`);
for (;;) {
  const body = await call("POST");
  print(body);
  if (body.done) {
    const total = Object.values(body.types).reduce((n, t) => n + t.imported, 0);
    console.log(`Done: ${total} objects imported into the billing tables. No fulfilment hook ran for them.`);
    process.exit(0);
  }
  if (body.status === "paused") {
    console.error(`Paused: ${body.last_error?.message ?? "the Stripe API refused a request"} Run this again once fixed.`);
    process.exit(1);
  }
  if (WAIT_AFTER.has(body.run?.outcome)) await sleep(pauseMs);
}

/** One admin API call; 429 waits for Retry-After and tries again; any other error prints the envelope and exits 1. */
async function call(method) {
  for (;;) {
    let response;
    try {
      response = await fetch(`${base}/admin/api/backfill`, { method, headers: { authorization: `Bearer ${token}` } });
    } catch (err) {
      console.error(`Could not reach ${base}: ${err.cause?.code ?? err.message}.`);
      process.exit(1);
    }
    const body = await response.json().catch(() => null);
    if (response.status === 429) {
      const seconds = Number(response.headers.get("retry-after")) || pauseMs / 1000;
      console.log(`The admin API is rate-limited for this address: waiting ${seconds} s.`);
      await sleep(seconds * 1000);
      continue;
    }
    if (response.ok && body) return body;
    const error = body?.error;
    console.error(
      error
        ? `${response.status} ${error.code}: ${error.message}`
        : `${method} ${base}/admin/api/backfill answered ${response.status}, not the admin API's JSON: ` +
            "is --url this Worker, with ADMIN_TOKEN set on it?",
    );
    process.exit(1);
  }
}

function print(body) {
  const types = Object.entries(body.types)
    .map(([type, t]) => `${type} ${t.imported}${t.done ? " ✓" : ""}`)
    .join(" · ");
  const run = body.run ? ` (this call: ${body.run.outcome}, ${body.run.pages} page(s), ${body.run.imported} object(s))` : "";
  console.log(`${body.status}: ${types}${run}`);
  if (body.last_error && body.status === "running") console.log(`  ${body.last_error.message}`);
}

/** The Worker's origin; plain http only on a loopback address, because the admin token travels in every request. */
function workerOrigin(raw) {
  if (!raw)
    usage("--url is required: the Worker's base URL, e.g. --url https://stripe-webhooks.example.workers.dev (or http://localhost:8787).");
  let url;
  try {
    url = new URL(raw);
  } catch {
    usage(`--url is not an absolute URL: ${raw}`);
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname)))
    usage("--url must start with https:// (plain http:// only for localhost): the admin token is sent with every request.");
  return url.origin;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function usage(message) {
  console.error(
    `${message}\nUsage: npm run stripe:backfill -- --url https://<worker>.<subdomain>.workers.dev [--status] [--pause <seconds>]`,
  );
  process.exit(2);
}
