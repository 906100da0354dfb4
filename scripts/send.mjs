#!/usr/bin/env node
// Sends a realistic, signed Stripe event to the local Worker, with no Stripe account and no network.
//
//   npm run send -- [event type] [--duplicate] [--tampered] [--stale] [--secret whsec_…] [--url …]
//                   [--created <unix seconds>] [--set field=value …]
//
// The event is built from Stripe's own example objects (test/fixtures/stripe-objects), with the
// fields that event type implies (a paid invoice for invoice.paid, …), then --set fields on
// data.object (values parsed as JSON when they can be: --set cancel_at_period_end=true). It is
// signed with the first secret in .dev.vars exactly as Stripe signs (t=, v1=, and a v0 decoy),
// posted with Stripe's delivery headers, and its ledger status is read back from local D1.
import { execFileSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";

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
    url: { type: "string", default: "http://localhost:8787/webhooks/stripe" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(readFileSync(new URL(import.meta.url), "utf8").split("\n").slice(1, 13).join("\n").replaceAll("// ", "").replaceAll("//", ""));
  process.exit(0);
}

const type = positionals[0] ?? "checkout.session.completed";
const objectFile = OBJECT_FOR_PREFIX.find(([prefix]) => type.startsWith(prefix))?.[1];
if (!objectFile) {
  console.error(`No example object for "${type}". Supported prefixes: ${OBJECT_FOR_PREFIX.map(([p]) => `${p}*`).join(", ")}`);
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
  "payment_intent.payment_failed": { status: "requires_payment_method", last_payment_error: { code: "card_declined", message: "Your card was declined." } },
  "charge.refunded": { refunded: true, amount_refunded: 100 },
};

const secret = values.secret ?? firstSecretFromDevVars();
const object = { ...readJson(`stripe-objects/${objectFile}`), ...(IMPLIED[type] ?? {}) };
for (const assignment of values.set) {
  const eq = assignment.indexOf("=");
  if (eq < 1) {
    console.error(`--set takes field=value, got "${assignment}"`);
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
const event = {
  ...readJson("stripe-objects/event.json"),
  id: `evt_local_${randomBytes(12).toString("hex")}`,
  type,
  created: values.created ? Number(values.created) : Math.floor(Date.now() / 1000),
  api_version: "2026-10-28.endive",
  data: { object },
};

const first = await post(event, { stale: values.stale, tampered: values.tampered });
if (values.duplicate) await post(event, {});
if (first.ok) await showStatus(event.id);

async function post(body, { stale = false, tampered = false }) {
  const payload = JSON.stringify(body);
  const t = Math.floor(Date.now() / 1000) - (stale ? 3600 : 0);
  const sign = (key) => createHmac("sha256", key).update(`${t}.${payload}`).digest("hex");
  const headers = { ...readJson("delivery-headers.json"), "Stripe-Signature": `t=${t},v1=${sign(secret)},v0=${sign("whsec_decoy")}` };
  // A tampered delivery changes the body after signing, as a proxy re-serialising JSON would.
  const sent = tampered ? JSON.stringify(body, null, 2) : payload;
  let response;
  try {
    response = await fetch(values.url, { method: "POST", headers, body: sent });
  } catch {
    console.error(`Could not reach ${values.url}. Is \`npm run dev\` running?`);
    process.exit(1);
  }
  console.log(`POST ${values.url} ${type} ${body.id}${stale ? " (stale)" : ""}${tampered ? " (tampered)" : ""}`);
  console.log(`→ ${response.status} ${await response.text()}`);
  return response;
}

async function showStatus(id) {
  await new Promise((r) => setTimeout(r, 2500));
  try {
    const out = execFileSync("npx", ["wrangler", "d1", "execute", "DB", "--local", "--json", "--command", `SELECT id, status, attempts, last_error FROM stripe_events WHERE id = '${id}'`], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    const row = JSON.parse(out)[0]?.results?.[0];
    console.log(row ? `status after 2.5 s: ${row.status} (attempts ${row.attempts}${row.last_error ? `, last error: ${row.last_error}` : ""})` : "no ledger row found");
  } catch {
    console.log("(could not read local D1 to show the status)");
  }
}

function firstSecretFromDevVars() {
  if (!existsSync(".dev.vars")) {
    console.error("No .dev.vars: run `npm run dev` once (it creates one) or pass --secret whsec_….");
    process.exit(2);
  }
  const line = readFileSync(".dev.vars", "utf8").split("\n").find((l) => l.trim().startsWith("STRIPE_WEBHOOK_SECRET="));
  const value = line?.slice(line.indexOf("=") + 1).trim().replace(/^["']|["']$/g, "");
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
