// Builds Stripe deliveries for the load generator: realistic events from Stripe's own example
// objects (test/fixtures/stripe-objects), each with a distinct event id and object id, signed the
// way Stripe signs (t=, v1=, v0 decoy). Signing happens here, before any timed run, so the load
// generator's own HMAC work is never part of a measurement.
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";

const FIXTURES = new URL("../../test/fixtures/", import.meta.url);

/** The secret every bench target is configured with (a local, made-up value). */
export const BENCH_SECRET = "whsec_bench_local_secret_not_for_production";

/** Event types sent round-robin: two with built-in handlers, two usually without (→ `ignored`). */
const MIX = [
  ["checkout.session.completed", "checkout.session.json"],
  ["invoice.paid", "invoice.json"],
  ["customer.subscription.updated", "subscription.json"],
  ["customer.created", "customer.json"],
];

const HEADERS = Object.fromEntries(
  Object.entries(readJson("delivery-headers.json")).filter(([name]) => name.toLowerCase() !== "stripe-signature"),
);
const BASE_EVENT = readJson("stripe-objects/event.json");
const OBJECTS = new Map(MIX.map(([, file]) => [file, readJson(`stripe-objects/${file}`)]));

/**
 * `count` distinct events (ids `evt_bench_<tag>_<n>`), as serialised JSON bodies. The same body can
 * be signed again later to make a duplicate delivery, as Stripe re-signs every retry.
 */
export function buildEvents(tag, count, start = 0) {
  const created = Math.floor(Date.now() / 1000);
  const events = new Array(count);
  for (let n = 0; n < count; n++) {
    const i = start + n;
    const [type, file] = MIX[i % MIX.length];
    const object = structuredClone(OBJECTS.get(file));
    // Distinct objects too, so once-per-object fulfilment does real work for every event.
    object.id = `${String(object.id).split("_")[0]}_bench_${tag}_${i}`;
    const event = { ...BASE_EVENT, id: `evt_bench_${tag}_${i}`, type, created, api_version: "2026-10-28.endive", data: { object } };
    events[n] = { id: event.id, type, body: JSON.stringify(event) };
  }
  return events;
}

/**
 * A signed delivery (headers and body) for one event body. `kind` makes the bad deliveries the soak
 * needs: "forged" is signed with another secret, "stale" is signed an hour ago.
 */
export function signDelivery(body, { kind = "valid", nowSeconds = Math.floor(Date.now() / 1000) } = {}) {
  const t = kind === "stale" ? nowSeconds - 3600 : nowSeconds;
  const secret = kind === "forged" ? "whsec_forger_does_not_know_the_secret" : BENCH_SECRET;
  const sign = (key) => createHmac("sha256", key).update(`${t}.${body}`).digest("hex");
  return {
    headers: { ...HEADERS, "Stripe-Signature": `t=${t},v1=${sign(secret)},v0=${sign("whsec_decoy")}` },
    body,
  };
}

function readJson(path) {
  return JSON.parse(readFileSync(new URL(path, FIXTURES), "utf8"));
}
