#!/usr/bin/env node
// Sends a realistic, signed Stripe event to the local Worker, with no Stripe account and no network.
//
//   npm run send -- [event type] [--duplicate] [--tampered] [--stale] [--secret whsec_…] [--url …]
//                   [--created <unix seconds>] [--set field=value …]
//   npm run send -- --thin [thin type] [--context acct_…] [the same options]
//
// The event is built from Stripe's own example objects (test/fixtures/stripe-objects), with the
// fields that event type implies (a paid invoice for invoice.paid, …), then --set fields on
// data.object (values parsed as JSON when they can be: --set cancel_at_period_end=true). It is
// signed with the first secret in .dev.vars exactly as Stripe signs (t=, v1=, and a v0 decoy),
// posted with Stripe's delivery headers, and its ledger status is read back from local D1.
// --thin posts a thin notification (v1.<type> of the same objects, or v2.core.event_destination.ping,
// v1.billing.meter.*) to /webhooks/stripe/thin instead, and answers the Worker's fetch of its related
// object from a local stub of the Stripe API on the port of STRIPE_API_BASE in .dev.vars.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parseStripeApiBase } from "../src/config/api-base.ts";
import { readDevVar } from "./lib/dev-vars.mjs";
import { startStripeApiStub } from "./lib/stripe-api-stub.mjs";
import { stripeSignatureHeader } from "./lib/stripe-signature.mjs";

const FIXTURES = new URL("../test/fixtures/", import.meta.url);
const OBJECT_FOR_PREFIX = [
  ["checkout.session.", "checkout.session.json"],
  ["customer.subscription.", "subscription.json"],
  ["customer.", "customer.json"],
  ["invoice.", "invoice.json"],
  ["payment_intent.", "payment_intent.json"],
  ["charge.", "charge.json"],
  ["refund.", "refund.json"],
];

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    duplicate: { type: "boolean", default: false },
    tampered: { type: "boolean", default: false },
    stale: { type: "boolean", default: false },
    secret: { type: "string" },
    created: { type: "string" },
    set: { type: "string", multiple: true, default: [] },
    thin: { type: "boolean", default: false },
    context: { type: "string" },
    url: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(
    readFileSync(new URL(import.meta.url), "utf8")
      .split("\n")
      .slice(1, 15)
      .join("\n")
      .replaceAll("// ", "")
      .replaceAll("//", ""),
  );
  process.exit(0);
}

const thin = values.thin;
// A thin type for a v1 resource is `v1.` + the snapshot type; its object is the same example object.
const type = positionals[0] ?? (thin ? "v1.checkout.session.completed" : "checkout.session.completed");
const snapshotType = thin ? type.replace(/^v1\./, "") : type;
const url = values.url ?? `http://localhost:8787/webhooks/stripe${thin ? "/thin" : ""}`;
const objectFile = OBJECT_FOR_PREFIX.find(([prefix]) => snapshotType.startsWith(prefix))?.[1];
// Thin types with no object here: the SDK's own sample notifications (test/fixtures/thin-events) and
// the ping Stripe sends to test a destination. The built-in handlers ignore them, so no API call follows.
const THIN_WITHOUT_OBJECT = [
  "v2.core.event_destination.ping",
  "v1.billing.meter.error_report_triggered",
  "v1.billing.meter.no_meter_found",
];
if (thin ? !(type.startsWith("v1.") && objectFile) && !THIN_WITHOUT_OBJECT.includes(type) : !objectFile) {
  const supported = OBJECT_FOR_PREFIX.map(([p]) => `${thin ? "v1." : ""}${p}*`);
  console.error(`No example object for "${type}". Supported: ${[...supported, ...(thin ? THIN_WITHOUT_OBJECT : [])].join(", ")}`);
  process.exit(2);
}

// What each event type implies about its object; the fixtures themselves are in generic states.
const IMPLIED = {
  "checkout.session.completed": { status: "complete", payment_status: "paid" },
  "checkout.session.async_payment_succeeded": { status: "complete", payment_status: "paid" },
  "checkout.session.async_payment_failed": { status: "complete", payment_status: "unpaid" },
  "checkout.session.expired": { status: "expired", payment_status: "unpaid" },
  "customer.subscription.created": { status: "active" },
  "customer.subscription.updated": { status: "active" },
  "customer.subscription.paused": { status: "paused" },
  "customer.subscription.resumed": { status: "active" },
  "customer.subscription.deleted": { status: "canceled" },
  "invoice.paid": { status: "paid", amount_paid: 2000, amount_due: 2000, amount_remaining: 0 },
  "invoice.payment_succeeded": { status: "paid", amount_paid: 2000, amount_due: 2000, amount_remaining: 0 },
  "invoice.payment_failed": { status: "open", amount_paid: 0, amount_due: 2000, amount_remaining: 2000 },
  "payment_intent.succeeded": { status: "succeeded", amount_received: 2000 },
  "payment_intent.processing": { status: "processing" },
  "payment_intent.canceled": { status: "canceled" },
  "payment_intent.payment_failed": {
    status: "requires_payment_method",
    last_payment_error: { code: "card_declined", message: "Your card was declined." },
  },
  "charge.refunded": { refunded: true, amount_refunded: 100 },
};

/** The API path of a v1 object by its `object` name: what a thin event's `related_object.url` carries. */
const API_PATHS = {
  "checkout.session": "/v1/checkout/sessions/",
  subscription: "/v1/subscriptions/",
  customer: "/v1/customers/",
  invoice: "/v1/invoices/",
  payment_intent: "/v1/payment_intents/",
  charge: "/v1/charges/",
  refund: "/v1/refunds/",
};

const secret = values.secret ?? firstSecretFromDevVars();
const object = objectFile ? { ...readJson(`stripe-objects/${objectFile}`), ...(IMPLIED[snapshotType] ?? {}) } : null;
for (const assignment of values.set) {
  const eq = assignment.indexOf("=");
  if (eq < 1 || !object) {
    console.error(object ? `--set takes field=value, got "${assignment}"` : `--set changes the event's object; ${type} has none here.`);
    process.exit(2);
  }
  const raw = assignment.slice(eq + 1);
  let value;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  object[assignment.slice(0, eq)] = value;
}
const id = `evt_local_${randomBytes(12).toString("hex")}`;
const createdSeconds = values.created ? Number(values.created) : Math.floor(Date.now() / 1000);
const event = thin
  ? thinNotification()
  : { ...readJson("stripe-objects/event.json"), id, type, created: createdSeconds, api_version: "2026-10-28.endive", data: { object } };

// A thin event's related object is fetched by the Worker from STRIPE_API_BASE: answer it locally.
const stub = thin && event.related_object && object ? await startStub(event) : null;
const first = await post(event, { stale: values.stale, tampered: values.tampered });
if (values.duplicate) await post(event, {});
if (first.ok) await showStatus(event.id);
if (stub) {
  await stub.stop();
  if (stub.requests.length === 0) {
    console.log(
      `The Worker did not call the Stripe API stub at ${stub.origin}: ` +
        `either no handler fetches ${type}'s object (it is then "ignored"), ` +
        `or \`npm run dev\` does not run with STRIPE_API_BASE=${stub.origin} and a STRIPE_SECRET_KEY from .dev.vars ` +
        "(restart it after editing .dev.vars; without a key the event is parked).",
    );
  }
  for (const r of stub.requests)
    console.log(
      `Stripe API stub (${stub.origin}) answered ${r.method} ${r.path} → ` +
        `${r.status}${r.bearer ? "" : " (no API key sent)"}${r.context ? ` (Stripe-Context ${r.context})` : ""}`,
    );
}

/**
 * A thin notification on the envelope of the SDK's sample (test/fixtures/thin-events): for a v1 type
 * with an object here, `related_object` points at that object's API path; the SDK's own samples keep
 * theirs; the ping relates to an event destination.
 */
function thinNotification() {
  const samples = readJson("thin-events/notifications.json");
  const sample = samples.find((n) => n.type === type) ?? samples[0];
  const { related_object: sampleRelated, ...envelope } = sample;
  const related = object
    ? { id: object.id, type: object.object, url: `${API_PATHS[object.object]}${object.id}` }
    : type === "v2.core.event_destination.ping"
      ? { id: "ed_local_ping", type: "v2.core.event_destination", url: "/v2/core/event_destinations/ed_local_ping" }
      : sampleRelated;
  return {
    ...envelope,
    id,
    type,
    created: new Date(createdSeconds * 1000).toISOString(),
    context: values.context ?? null,
    ...(related ? { related_object: related } : {}),
  };
}

/** Starts the Stripe API stub where .dev.vars sends the Worker's API calls, or explains how to point it there. */
async function startStub(notification) {
  const configured = readDevVar("STRIPE_API_BASE");
  const parsed = parseStripeApiBase(configured);
  if (!configured || !parsed.ok || parsed.base.protocol !== "http") {
    console.error(
      `A thin event carries no data: the Worker fetches ${notification.related_object.url} from STRIPE_API_BASE, ` +
        `and \`send --thin\` answers it
from a local stub. Point the Worker at it in .dev.vars, then restart \`npm run dev\`:

  STRIPE_SECRET_KEY=sk_test_local_stub          (any value: the stub checks none)
  STRIPE_API_BASE=http://127.0.0.1:12111

(STRIPE_API_BASE in .dev.vars is ${configured ? `"${configured}", not a loopback http:// origin` : "not set"}.)`,
    );
    process.exit(2);
  }
  const { host, port, origin } = parsed.base;
  try {
    const stub = await startStripeApiStub({
      host: host.replace(/^\[|\]$/g, ""),
      port,
      objects: { [notification.related_object.url]: object, [`/v2/core/events/${notification.id}`]: notification },
    });
    return { ...stub, origin };
  } catch (err) {
    console.error(
      `Could not start the Stripe API stub on ${origin} (${err.code ?? err.message}): ` +
        "something else holds that port (stripe-mock?). Stop it, or change STRIPE_API_BASE in .dev.vars and restart `npm run dev`.",
    );
    process.exit(1);
  }
}

async function post(body, { stale = false, tampered = false }) {
  const payload = JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000) - (stale ? 3600 : 0);
  const headers = { ...readJson("delivery-headers.json"), "Stripe-Signature": stripeSignatureHeader(payload, secret, t) };
  // A tampered delivery changes the body after signing, as a proxy re-serialising JSON would.
  const sent = tampered ? JSON.stringify(body, null, 2) : payload;
  let response;
  try {
    response = await fetch(url, { method: "POST", headers, body: sent });
  } catch {
    console.error(`Could not reach ${url}. Is \`npm run dev\` running?`);
    process.exit(1);
  }
  console.log(`POST ${url} ${type} ${body.id}${stale ? " (stale)" : ""}${tampered ? " (tampered)" : ""}`);
  console.log(`→ ${response.status} ${await response.text()}`);
  return response;
}

/**
 * Reads the event's ledger status from local D1 until processing is over (not `received` or
 * `processing`) or 30 s have passed, so a thin event's stub stays up while the Worker needs it.
 */
async function showStatus(id) {
  const started = Date.now();
  let row;
  do {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      const out = execFileSync(
        "npx",
        [
          "wrangler",
          "d1",
          "execute",
          "DB",
          "--local",
          "--json",
          "--command",
          `SELECT id, status, attempts, last_error FROM stripe_events WHERE id = '${id}'`,
        ],
        {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "ignore"],
        },
      );
      row = JSON.parse(out)[0]?.results?.[0];
    } catch {
      console.log("(could not read local D1 to show the status)");
      return;
    }
  } while ((!row || row.status === "received" || row.status === "processing") && Date.now() - started < 30_000);
  const after = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    row
      ? `status after ${after} s: ${row.status} (attempts ${row.attempts}${row.last_error ? `, last error: ${row.last_error}` : ""})`
      : "no ledger row found",
  );
}

function firstSecretFromDevVars() {
  if (!existsSync(".dev.vars")) {
    console.error("No .dev.vars: run `npm run dev` once (it creates one) or pass --secret whsec_….");
    process.exit(2);
  }
  const line = readFileSync(".dev.vars", "utf8")
    .split("\n")
    .find((l) => l.trim().startsWith("STRIPE_WEBHOOK_SECRET="));
  const value = line
    ?.slice(line.indexOf("=") + 1)
    .trim()
    .replace(/^["']|["']$/g, "");
  const first = value?.split(",")[0]?.trim().split("@")[0];
  if (!first) {
    console.error("STRIPE_WEBHOOK_SECRET is not set in .dev.vars.");
    process.exit(2);
  }
  return first;
}

function readJson(path) {
  return JSON.parse(readFileSync(new URL(path, FIXTURES), "utf8"));
}
