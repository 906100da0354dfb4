import { env } from "cloudflare:workers";
import { HttpResponse, http } from "msw";
import { beforeEach, describe, expect, it } from "vitest";
import { UNPROCESSED_ALERT_MS } from "../src/alerts/conditions";
import { ALERT_REPEAT_MS, sendAlerts } from "../src/alerts/send";
import { deliver, TEST_SECRET } from "./helpers/deliver";
import { buildEvent, OBJECTS } from "./helpers/events";
import { envWith } from "./helpers/faults";
import { clearLedger, seedEvent, setRow } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import { stubStripeApi } from "./helpers/stripe-api";
import { thinEvent } from "./helpers/thin";
import { getHealth, runCron, testDeps } from "./helpers/worker";

// Alerts go to a stub receiver at the network edge (the global fetch answered by msw), so the Worker's
// own code posts them exactly as it would to Slack.

const RECEIVER = "https://hooks.example.com/services/T0001/B0001/receiversecret";
const MIN = 60_000;
const NOW = Date.now();

beforeEach(clearLedger);

/** A receiver that answers `status` and keeps the text of every alert posted to it. */
function receiver(status = 200): { texts: () => Promise<string[]>; requests: Request[] } {
  const requests = stubStripeApi(
    http.post(RECEIVER, () => {
      // What fetch does when the receiver's host cannot be reached.
      if (status === 0) throw new TypeError("fetch failed");
      return HttpResponse.json({ ok: status === 200 }, { status });
    }),
  );
  return { requests, texts: () => Promise.all(requests.map(async (r) => ((await r.clone().json()) as { text: string }).text)) };
}

const alertEnv = (overrides: Partial<Env> = {}) => envWith({ ALERT_WEBHOOK_URL: RECEIVER, ...overrides });

/** A dead event of `type` that went dead at `deadAt`. */
async function dead(type: string, deadAt: number, fields: Record<string, string | number | null> = {}): Promise<string> {
  const e = buildEvent(type, OBJECTS.customer);
  await seedEvent(e, deadAt - 10 * MIN);
  await setRow(e.id, { status: "dead", dead_at: deadAt, redrive_at: null, last_error: "Error: staged", ...fields });
  return e.id;
}

describe("alerts", () => {
  it("sends nothing without ALERT_WEBHOOK_URL, whatever holds", async () => {
    const { requests } = receiver();
    await dead("invoice.paid", NOW - MIN);
    expect(await sendAlerts(testDeps({ env: envWith({ ALERT_WEBHOOK_URL: "" }), now: NOW }))).toEqual([]);
    expect(requests).toHaveLength(0);
  });

  it("reports the events that went dead since the last alert, how many and of which types, at most once an hour", async () => {
    const { requests, texts } = receiver();
    await dead("invoice.paid", NOW - 3 * MIN);
    await dead("invoice.paid", NOW - 2 * MIN);
    await dead("customer.updated", NOW - MIN);
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW }))).toEqual(["dead"]);
    expect((await texts())[0]).toContain(
      "3 event(s) went dead since the last alert (retries exhausted): invoice.paid (2), customer.updated (1).",
    );
    expect(requests[0]!.headers.get("content-type")).toBe("application/json");

    // Within the hour: nothing more, even for a new death; after it, only the deaths not yet reported.
    await dead("charge.refunded", NOW + 5 * MIN);
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW + MIN }))).toEqual([]);
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW + 30 * MIN }))).toEqual([]);
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW + ALERT_REPEAT_MS }))).toEqual(["dead"]);
    expect(requests).toHaveLength(2);
    expect((await texts())[1]).toContain("1 event(s) went dead since the last alert (retries exhausted): charge.refunded (1).");
    // Nothing new: nothing sent.
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW + 3 * ALERT_REPEAT_MS }))).toEqual([]);
  });

  it("reports the oldest unprocessed event once it is older than 30 minutes", async () => {
    const { texts } = receiver();
    const e = buildEvent("invoice.paid", OBJECTS.invoice);
    await seedEvent(e, NOW - 10 * MIN);
    await setRow(e.id, { status: "failed", redrive_at: NOW + MIN });
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW }))).toEqual([]);
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW - 10 * MIN + UNPROCESSED_ALERT_MS + MIN }))).toEqual(["unprocessed"]);
    expect((await texts())[0]).toContain(
      `The oldest unprocessed event, ${e.id} (invoice.paid, failed), arrived 31 min ago (alert threshold 30 min)`,
    );
  });

  it("reports a webhook secret that expires within a day by its position, never its value", async () => {
    const { texts } = receiver();
    const expiring = `whsec_rolling_out_${crypto.randomUUID()}`;
    const at = new Date(NOW + 3 * 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    expect(await sendAlerts(testDeps({ env: alertEnv({ STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},${expiring}@${at}` }), now: NOW }))).toEqual([
      "secret_expiry",
    ]);
    const [text] = await texts();
    expect(text).toContain(`Entry 2 of 2 in STRIPE_WEBHOOK_SECRET expires at ${at.replace("Z", ".000Z")}`);
    expect(text).not.toContain(expiring);
  });

  it("reports the /health warnings: database size and thin events parked for STRIPE_SECRET_KEY", async () => {
    const { texts } = receiver();
    const parked = thinEvent("v1.customer.updated", { id: "cus_parked", type: "customer", url: "/v1/customers/cus_parked" });
    await seedEvent(parked);
    await setRow(parked.id, { status: "failed", redrive_at: null, last_error: "STRIPE_SECRET_KEY is not set" });
    const size = (await env.DB.prepare("SELECT 1").run()).meta.size_after!;
    expect(await sendAlerts(testDeps({ env: alertEnv({ D1_MAX_BYTES: String(Math.ceil(size / 0.85)) }), now: NOW }))).toEqual([
      "database_size",
      "thin_parked",
    ]);
    const [text] = await texts();
    expect(text).toMatch(/The database holds .*% of D1_MAX_BYTES/);
    expect(text).toContain("1 thin event(s) are recorded but parked");
  });

  it("reports the endpoint drift check's warnings from its saved report, without calling Stripe", async () => {
    const { requests, texts } = receiver();
    const report = {
      checked_at: new Date(NOW - 3_600_000).toISOString(),
      endpoints: [],
      warnings: ["1 handled event type(s) are not enabled on the endpoint we_123, so Stripe never sends them: invoice.paid."],
      info: [],
    };
    await env.DB.prepare("INSERT INTO job_state (key, value, updated_at) VALUES ('endpoint_check', ?, ?)")
      .bind(JSON.stringify({ report, nextCheckAt: NOW + 3_600_000, fingerprint: "x" }), NOW)
      .run();
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW }))).toEqual(["endpoint_drift"]);
    expect((await texts())[0]).toContain(
      "The webhook endpoint check warns: 1 handled event type(s) are not enabled on the endpoint we_123",
    );
    expect(requests.map((r) => new URL(r.url).host)).toEqual(["hooks.example.com"]);
  });

  it("reports a setting that /health fails on", async () => {
    const { texts } = receiver();
    expect(await sendAlerts(testDeps({ env: alertEnv({ LEDGER_RETENTION_DAYS: "2" }), now: NOW }))).toEqual(["settings"]);
    expect((await texts())[0]).toContain("/health fails: config_invalid: LEDGER_RETENTION_DAYS must be");
  });

  it("puts no payload, handler error text or secret in the message or the logs", async () => {
    const { texts } = receiver();
    const lines = captureLogs();
    const secrets = {
      webhook: `whsec_leak_${crypto.randomUUID()}`,
      key: "sk_test_do_not_leak_123",
      admin: "admin-token-do-not-leak-0123456789abcdef",
    };
    const at = new Date(NOW + 3_600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    await dead("invoice.paid", NOW - MIN, {
      payload: JSON.stringify({ id: "evt_x", marker: "PAYLOAD-MARKER-42" }),
      last_error: `Error: card ${secrets.key} declined`,
    });
    const sent = await sendAlerts(
      testDeps({
        env: alertEnv({
          STRIPE_WEBHOOK_SECRET: `${TEST_SECRET},${secrets.webhook}@${at}`,
          STRIPE_SECRET_KEY: secrets.key,
          ADMIN_TOKEN: secrets.admin,
        }),
        now: NOW,
      }),
    );
    expect(sent).toEqual(["dead", "secret_expiry"]);
    const [text] = await texts();
    for (const leak of ["PAYLOAD-MARKER-42", secrets.webhook, secrets.key, secrets.admin, TEST_SECRET, "receiversecret", "declined"]) {
      expect(text).not.toContain(leak);
      expect(lines.join("\n")).not.toContain(leak);
    }
  });

  it.each([
    ["answers 500", 500, { stage: "post", status: 500 }],
    ["cannot be reached", 0, { stage: "post", error: "TypeError" }],
  ])("logs a receiver that %s without its URL, and tries again only an hour later", async (_name, status, logged) => {
    const { requests } = receiver(status);
    const lines = captureLogs();
    await dead("invoice.paid", NOW - MIN);
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW }))).toEqual(["dead"]);
    expect(lines.map((l) => JSON.parse(l))).toContainEqual({ level: "error", msg: "alert_failed", conditions: ["dead"], ...logged });
    expect(lines.join("\n")).not.toContain("hooks.example.com");
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW + MIN }))).toEqual([]);
    expect(requests).toHaveLength(1);
    await dead("invoice.paid", NOW + 2 * MIN);
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW + ALERT_REPEAT_MS }))).toEqual(["dead"]);
    expect(requests).toHaveLength(2);
  });

  it("never follows a redirect: the alert goes to ALERT_WEBHOOK_URL or nowhere", async () => {
    const elsewhere = "https://collector.example/steal";
    const requests = stubStripeApi(
      http.post(RECEIVER, () => new HttpResponse(null, { status: 307, headers: { location: elsewhere } })),
      http.post(elsewhere, () => HttpResponse.json({ ok: true })),
    );
    const lines = captureLogs();
    await dead("invoice.paid", NOW - MIN);
    expect(await sendAlerts(testDeps({ env: alertEnv(), now: NOW }))).toEqual(["dead"]);
    expect(requests.map((r) => r.url)).toEqual([RECEIVER]);
    // What keeps it so in production, where fetch would follow the 307 by itself.
    expect(requests[0]!.redirect).toBe("manual");
    expect(lines.map((l) => JSON.parse(l))).toContainEqual({
      level: "error",
      msg: "alert_failed",
      stage: "post",
      status: 307,
      conditions: ["dead"],
    });
  });

  it("is sent by the every-minute cron", async () => {
    const { texts } = receiver();
    await dead("invoice.paid", NOW - MIN);
    await runCron(NOW, { env: alertEnv() });
    expect(await texts()).toEqual([expect.stringContaining("1 event(s) went dead")]);
  });
});

describe("ALERT_WEBHOOK_URL", () => {
  it.each([
    ["a URL without a scheme", "hooks.example.com/services/T/B/secretpart", /is not an absolute URL/],
    [
      "plain http to a public host",
      "http://hooks.example.com/services/T/B/secretpart",
      /plain http:\/\/ for an address that is not loopback/,
    ],
    ["another scheme", "ftp://127.0.0.1/secretpart", /must start with https:\/\//],
  ])("refuses %s: /health 503 config_invalid naming the variable, deliveries 500, the value never shown", async (_name, value, why) => {
    const { body, text } = await getHealth(envWith({ ALERT_WEBHOOK_URL: value }));
    expect(body.ok).toBe(false);
    const settings = body.checks.settings;
    expect(settings).toEqual({ ok: false, message: expect.stringMatching(/^config_invalid: ALERT_WEBHOOK_URL /) });
    expect(settings.message).toMatch(why);
    expect(text).not.toContain("secretpart");
    const delivery = await deliver(buildEvent("customer.created", OBJECTS.customer), { env: envWith({ ALERT_WEBHOOK_URL: value }) });
    expect(delivery.status).toBe(500);
    expect(((await delivery.json()) as { error: { code: string } }).error.code).toBe("config_invalid");
  });

  it.each([
    "https://hooks.slack.com/services/T000/B000/XXXX",
    "http://127.0.0.1:9000/alerts",
    "http://localhost:9000/",
    "http://[::1]:9000/",
    "",
  ])("accepts %j", async (value) => {
    expect((await getHealth(envWith({ ALERT_WEBHOOK_URL: value }))).body.ok).toBe(true);
  });
});
