import { env } from "cloudflare:workers";
import { afterAll, describe, expect, it, vi } from "vitest";
import { adminApi } from "./helpers/admin";
import { deliver, deliverThin, TEST_SECRET } from "./helpers/deliver";
import { buildEvent, OBJECTS, uid } from "./helpers/events";
import { countingQueue, envWith } from "./helpers/faults";
import { ledgerCount, ledgerRow } from "./helpers/ledger";
import { captureLogs } from "./helpers/logs";
import { signatureHeader } from "./helpers/sign";
import { SDK_NOTIFICATIONS, thinEvent } from "./helpers/thin";
import { callWorker } from "./helpers/worker";

const now = () => Math.floor(Date.now() / 1000);

// The events accepted here go to the real queue, whose consumer runs after the tests; the file ends
// once it has finished them, so that it never races the teardown of this file's storage.
afterAll(() =>
  vi.waitFor(
    async () => {
      const open = await env.DB.prepare("SELECT count(*) AS n FROM stripe_events WHERE status IN ('received', 'processing')").first<{
        n: number;
      }>();
      expect(open?.n).toBe(0);
    },
    { timeout: 30_000, interval: 200 },
  ),
);
const HOUR = 3600;
const subscription = () =>
  thinEvent("v1.customer.subscription.updated", { id: "sub_thin_edge", type: "subscription", url: "/v1/subscriptions/sub_thin_edge" });
const snapshot = () => buildEvent("invoice.paid", OBJECTS.invoice);
const fresh = <T extends { id: string }>(n: T): T => ({ ...structuredClone(n), id: uid("evt") });

interface Case {
  name: string;
  send: () => Promise<Response>;
  status: number;
  code?: string;
  /** A phrase the message must contain: what to check or change. */
  hint?: RegExp;
}

const cases: Case[] = [
  { name: "a valid thin notification", send: () => deliverThin(subscription()), status: 200 },
  {
    name: "a thin notification changed after signing",
    send: async () => {
      const payload = JSON.stringify(subscription());
      return deliverThin(payload.replace("sub_thin_edge", "sub_thin_evil"), {
        signature: await signatureHeader(payload, [TEST_SECRET], now()),
      });
    },
    status: 400,
    code: "signature_invalid",
    hint: /re-serialised/,
  },
  {
    name: "a thin notification signed with another secret",
    send: () => deliverThin(subscription(), { secrets: ["whsec_someone_else"] }),
    status: 400,
    code: "signature_invalid",
    hint: /stripe listen/,
  },
  {
    name: "a thin notification signed an hour ago",
    send: () => deliverThin(subscription(), { timestamp: now() - HOUR }),
    status: 400,
    code: "timestamp_out_of_tolerance",
    hint: /ago \(tolerance 300 s\)/,
  },
  {
    name: "a thin notification signed an hour ahead",
    send: () => deliverThin(subscription(), { timestamp: now() + HOUR }),
    status: 400,
    code: "timestamp_out_of_tolerance",
    hint: /in the future/,
  },
  {
    name: "a snapshot event at the thin endpoint",
    send: () => deliverThin(snapshot()),
    status: 400,
    code: "payload_invalid",
    hint: /snapshot event .*URL to https:\/\/worker\.example\/webhooks\/stripe \(/,
  },
  {
    name: "a thin notification at the snapshot endpoint",
    send: () => deliver(subscription()),
    status: 400,
    code: "payload_invalid",
    hint: /thin event .*URL to https:\/\/worker\.example\/webhooks\/stripe\/thin /,
  },
  // Signature, then timestamp, then shape, whichever endpoint and format.
  {
    name: "a snapshot event signed an hour ahead at the thin endpoint",
    send: () => deliverThin(snapshot(), { timestamp: now() + HOUR }),
    status: 400,
    code: "timestamp_out_of_tolerance",
    hint: /in the future/,
  },
  {
    name: "a thin notification signed an hour ago at the snapshot endpoint",
    send: () => deliver(subscription(), { timestamp: now() - HOUR }),
    status: 400,
    code: "timestamp_out_of_tolerance",
    hint: /ago/,
  },
  {
    name: "a thin notification signed an hour ahead at the snapshot endpoint",
    send: () => deliver(subscription(), { timestamp: now() + HOUR }),
    status: 400,
    code: "timestamp_out_of_tolerance",
    hint: /in the future/,
  },
  {
    name: "a forged snapshot event signed an hour ago at the thin endpoint",
    send: () => deliverThin(snapshot(), { secrets: ["whsec_forger"], timestamp: now() - HOUR }),
    status: 400,
    code: "signature_invalid",
  },
  {
    name: "a signed body that is not JSON at the thin endpoint",
    send: () => deliverThin("not json"),
    status: 400,
    code: "payload_invalid",
    hint: /not a thin event notification/,
  },
  {
    name: "a signed empty object at the thin endpoint (the SDK accepts it)",
    send: () => deliverThin({}),
    status: 400,
    code: "payload_invalid",
    hint: /v2\.core\.event/,
  },
  {
    name: "a signed JSON array at the thin endpoint",
    send: () => deliverThin([]),
    status: 400,
    code: "payload_invalid",
    hint: /JSON object/,
  },
  {
    name: "a thin notification whose id is not an event id",
    send: () => deliverThin({ ...subscription(), id: "sub_123" }),
    status: 400,
    code: "payload_invalid",
    hint: /evt_/,
  },
  {
    name: "a thin notification with a Unix created time",
    send: () => deliverThin({ ...subscription(), created: now() }),
    status: 400,
    code: "payload_invalid",
    hint: /ISO 8601/,
  },
  {
    name: "a thin notification whose related_object has no url",
    send: () => deliverThin({ ...subscription(), related_object: { id: "sub_1", type: "subscription" } }),
    status: 400,
    code: "payload_invalid",
    hint: /url/,
  },
  {
    name: "a thin notification of an unknown object type",
    send: () => deliverThin({ ...subscription(), object: "list" }),
    status: 400,
    code: "payload_invalid",
    hint: /v2\.core\.event/,
  },
  {
    name: "no Stripe-Signature header at the thin endpoint",
    send: () => deliverThin(subscription(), { signature: null }),
    status: 400,
    code: "signature_missing",
    hint: /no Stripe-Signature header/,
  },
  {
    name: "GET on the thin endpoint",
    send: () => callWorker("/webhooks/stripe/thin"),
    status: 405,
    code: "method_not_allowed",
    hint: /POST/,
  },
  {
    name: "no webhook secret configured, at the thin endpoint",
    send: () => deliverThin(subscription(), { env: envWith({ STRIPE_WEBHOOK_SECRET: "" }) }),
    status: 500,
    code: "webhook_secret_missing",
  },
];

describe("POST /webhooks/stripe/thin, verification", () => {
  it.each(cases)("answers $status $code for $name", async ({ send, status, code, hint }) => {
    const response = await send();
    expect(response.status).toBe(status);
    if (code === undefined) return;
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error.code).toBe(code);
    if (hint) expect(body.error.message).toMatch(hint);
    expect(body.error.message).not.toMatch(/whsec_\w|\n\s+at /);
  });

  it.each(SDK_NOTIFICATIONS.map((n) => [n.id, n] as const))(
    "accepts the SDK's sample notification %s and records what distinguishes it",
    async (_id, sample) => {
      const n = fresh(sample);
      const response = await deliverThin(n);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ received: true, id: n.id, duplicate: false });
      expect(await ledgerRow(n.id)).toMatchObject({
        format: "thin",
        type: sample.type,
        created: Math.floor(Date.parse(sample.created) / 1000),
        livemode: 0,
        api_version: null,
        context: sample.context,
        object_id: sample.related_object?.id ?? null,
        account: null, // these contexts are not account ids
        source: "webhook",
        payload: JSON.stringify(n),
      });
    },
  );

  it("records a connected account's context, and the account when the context is one account", async () => {
    const one = thinEvent(
      "v1.customer.updated",
      { id: "cus_ctx", type: "customer", url: "/v1/customers/cus_ctx" },
      { context: "acct_1Connected" },
    );
    const nested = thinEvent(
      "v2.core.account.updated",
      { id: "acct_1Child", type: "v2.core.account", url: "/v2/core/accounts/acct_1Child" },
      { context: "acct_1Org/acct_1Child" },
    );
    expect((await deliverThin(one)).status).toBe(200);
    expect((await deliverThin(nested)).status).toBe(200);
    expect(await ledgerRow(one.id)).toMatchObject({ context: "acct_1Connected", account: "acct_1Connected", object_id: "cus_ctx" });
    expect(await ledgerRow(nested.id)).toMatchObject({ context: "acct_1Org/acct_1Child", account: null, object_id: "acct_1Child" });
  });

  it("shows the format, object and context in the admin API", async () => {
    const n = thinEvent(
      "v1.customer.updated",
      { id: "cus_admin", type: "customer", url: "/v1/customers/cus_admin" },
      { context: "acct_1Admin" },
    );
    expect((await deliverThin(n)).status).toBe(200);
    const { body } = await adminApi(`/events/${n.id}`);
    expect(body).toMatchObject({
      event: {
        id: n.id,
        format: "thin",
        object_id: "cus_admin",
        context: "acct_1Admin",
        account: "acct_1Admin",
        api_version: null,
        payload: n,
      },
    });
  });

  it("records a snapshot event's format and object id too", async () => {
    const e = snapshot();
    expect((await deliver(e)).status).toBe(200);
    expect(await ledgerRow(e.id)).toMatchObject({ format: "snapshot", object_id: OBJECTS.invoice.id, context: null });
  });

  it("answers a repeated thin delivery as a duplicate and enqueues it once", async () => {
    const { queue, sent } = countingQueue();
    const testEnv = envWith({ EVENTS_QUEUE: queue });
    const n = subscription();
    expect(await (await deliverThin(n, { env: testEnv, timestamp: now() - 60 })).json()).toMatchObject({ duplicate: false });
    expect(await (await deliverThin(n, { env: testEnv })).json()).toMatchObject({ duplicate: true });
    expect(await ledgerCount(n.id)).toBe(1);
    expect(sent).toEqual([n.id]);
  });

  it("verifies with any configured secret and records which, as for snapshot events", async () => {
    const n = subscription();
    const testEnv = envWith({ STRIPE_WEBHOOK_SECRET: `whsec_destination_new,${TEST_SECRET}` });
    expect((await deliverThin(n, { env: testEnv })).status).toBe(200);
    expect((await ledgerRow(n.id))?.secret_index).toBe(1);
  });

  it("refuses a thin delivery signed only with an expired secret, naming its position in the log line only", async () => {
    const logs = captureLogs();
    const expired = `${new Date(Date.now() - 60_000).toISOString().slice(0, 19)}Z`;
    const response = await deliverThin(subscription(), {
      env: envWith({ STRIPE_WEBHOOK_SECRET: `whsec_current,${TEST_SECRET}@${expired}` }),
    });
    expect(await response.json()).toMatchObject({
      error: { code: "signature_invalid", message: expect.stringMatching(/signed only with a configured secret that has expired/) },
    });
    expect(logs.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ msg: "delivery", format: "thin", outcome: "signature_invalid", secret_position: 2 }),
    );
  });

  it("records nothing for a thin delivery it refuses", async () => {
    const stale = subscription();
    const misrouted = subscription();
    expect((await deliverThin(stale, { timestamp: now() - HOUR })).status).toBe(400);
    expect((await deliver(misrouted)).status).toBe(400);
    expect(await ledgerCount(stale.id)).toBe(0);
    expect(await ledgerCount(misrouted.id)).toBe(0);
  });
});
