#!/usr/bin/env node
// Brings archived events back into a deployed (or local) Worker's ledger for processing, printing progress:
//
//   npm run archive:restore -- --url https://<worker>.<subdomain>.workers.dev --from 2026-11-02T13:00Z --to 2026-11-02T14:00Z
//
// It calls the Worker's admin API only (POST /admin/api/archive/restore, which restores one part of
// the range per call, at most 2,000 events, and replays them; a lifecycle event is put back as it was,
// its hook having run once), until the range is done. Restoring is
// idempotent: an event already in the ledger is left as it is, so running it twice records nothing
// twice, and fulfilments stay once-only when the events are processed again. Needs ADMIN_TOKEN
// (environment, else .dev.vars). --from and --to are arrival times, ISO 8601 (UTC when no zone is
// given) or Unix ms; --to is excluded. Exits 0 when done, 1 when the Worker refused (the reason
// printed), 2 on bad usage.
import { parseArgs } from "node:util";
import { isLoopback } from "../src/config/api-base.ts";
import { setting } from "./lib/dev-vars.mjs";

let options;
try {
  options = parseArgs({ options: { url: { type: "string" }, from: { type: "string" }, to: { type: "string" } } }).values;
} catch (err) {
  usage(err.message);
}
const base = workerOrigin(options.url);
if (!options.from || !options.to) usage("--from and --to are required: the range of arrival times to restore.");
const token = setting("ADMIN_TOKEN");
if (!token) {
  console.error(
    "ADMIN_TOKEN is not set (in the environment or .dev.vars): the Worker's admin token, as put with `wrangler secret put ADMIN_TOKEN`.",
  );
  process.exit(1);
}

console.log(`Restoring the events that arrived from ${options.from} to ${options.to} into ${base}.`);
let cursor = null;
const total = { parts: 0, restored: 0, replayed: 0 };
do {
  const body = await restore(cursor);
  total.parts += body.parts;
  total.restored += body.restored;
  total.replayed += body.replayed;
  if (body.parts > 0) console.log(`  part ${total.parts}: ${body.restored} restored, ${body.replayed} sent to the queue`);
  cursor = body.next_cursor;
} while (cursor !== null);
console.log(
  `Done: ${total.restored} event(s) restored from ${total.parts} part(s) and sent to the queue to be processed again ` +
    `(${total.replayed} replayed; events already in the ledger, and lifecycle events, were left as they are). Fulfilments stay once-only.`,
);

/** One call of the admin API; 429 waits for Retry-After and tries again; any other error prints the envelope and exits 1. */
async function restore(after) {
  const query = new URLSearchParams({ from: options.from, to: options.to, ...(after ? { cursor: after } : {}) });
  for (;;) {
    let response;
    try {
      response = await fetch(`${base}/admin/api/archive/restore?${query}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      });
    } catch (err) {
      console.error(`Could not reach ${base}: ${err.cause?.code ?? err.message}.`);
      process.exit(1);
    }
    const body = await response.json().catch(() => null);
    if (response.status === 429) {
      const seconds = Number(response.headers.get("retry-after")) || 10;
      console.log(`The admin API is rate-limited for this address: waiting ${seconds} s.`);
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
      continue;
    }
    if (response.ok && body) return body;
    const error = body?.error;
    console.error(
      error
        ? `${response.status} ${error.code}: ${error.message}`
        : `POST ${base}/admin/api/archive/restore answered ${response.status}, not the admin API's JSON: ` +
            "is --url this Worker, with ADMIN_TOKEN set on it?",
    );
    process.exit(1);
  }
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

function usage(message) {
  console.error(`${message}\nUsage: npm run archive:restore -- --url https://<worker>.<subdomain>.workers.dev --from <time> --to <time>`);
  process.exit(2);
}
