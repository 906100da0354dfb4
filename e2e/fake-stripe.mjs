// A small fake of the Stripe API on 127.0.0.1, at the network edge of the real Stripe CLI binary and
// of the npm scripts (which use the stripe SDK). It implements only what they call, shaped like
// Stripe's answers:
// - POST /v1/stripecli/sessions: what `stripe listen` asks for first (and all `--print-secret` asks
//   for). The answer's websocket_url points back here; its `secret` is the session's signing secret.
// - a WebSocket at that URL, over which Stripe pushes `webhook_event` messages, signed by Stripe (not
//   the CLI) with the session secret; the CLI forwards each to --forward-to and answers with a
//   `webhook_response` carrying the local endpoint's status and body.
// - /v1/webhook_endpoints: create, list, retrieve, update, delete, in memory, refusing api_version on
//   update as Stripe does.
// - thin events: `v2_event` messages over the same WebSocket (what a session with --thin-events gets),
//   and GET of the objects a test serves (`serveObject`), which the Worker fetches for them.
// - list APIs (`serveList`: GET /v1/customers, /v1/subscriptions, …) paged with `limit` and
//   `starting_after` like Stripe's, which the Worker's backfill reads; `failListOnce` answers one
//   request with an error (a 429) first.
// The CLI accepts a plain-http --api-base only on 127.0.0.1 (pkg/stripe/url.go), hence the address.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { stripeV1 } from "../scripts/lib/stripe-signature.mjs";

const DELIVERY_HEADERS = JSON.parse(readFileSync(new URL("../test/fixtures/delivery-headers.json", import.meta.url), "utf8"));

/**
 * Starts the fake. `apiKey`: the only key it accepts (401 otherwise). Returns its `base` URL, every
 * request seen (`requests`: method, path, form fields, query), the webhook endpoints, `sendEvent()` /
 * `sendThinEvent()` to push an event to the connected CLI, `serveObject()`, `cliConnected()` /
 * `cliDisconnected()` and `stop()`.
 */
export async function startFakeStripe({ apiKey, sessionSecret = `whsec_fake_cli_${randomBytes(8).toString("hex")}` } = {}) {
  const requests = [];
  const endpoints = new Map();
  const objects = new Map();
  const lists = new Map();
  const sockets = new Set();
  const waiting = new Map();
  let seq = 0;
  const onConnect = [];
  const onDisconnect = [];

  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url, "http://127.0.0.1");
    const form = parseForm(Buffer.concat(chunks).toString("utf8"));
    const query = parseForm(url.search.slice(1));
    requests.push({ method: req.method, path: url.pathname, form, query });
    const send = (status, body) => {
      res.writeHead(status, { "content-type": "application/json", "request-id": `req_fake_${++seq}` });
      res.end(JSON.stringify(body));
    };
    const fail = (status, message, type = "invalid_request_error") => send(status, { error: { type, message } });

    if (apiKey && req.headers.authorization !== `Bearer ${apiKey}`) return fail(401, "Invalid API Key provided.");
    const route = `${req.method} ${url.pathname}`;
    if (req.method === "GET" && objects.has(url.pathname)) return send(200, objects.get(url.pathname));
    const list = req.method === "GET" && lists.get(url.pathname);
    if (list) {
      const failure = list.failures.findIndex((f) => (f.startingAfter ?? null) === (query.starting_after ?? null));
      if (failure !== -1) {
        const [{ status }] = list.failures.splice(failure, 1);
        return fail(status, "Request rate limit exceeded.", status === 429 ? "rate_limit_error" : "api_error");
      }
      const limit = Math.min(Number(query.limit ?? 10), list.pageCap);
      const from = query.starting_after ? list.objects.findIndex((o) => o.id === query.starting_after) + 1 : 0;
      return send(200, {
        object: "list",
        url: url.pathname,
        has_more: from + limit < list.objects.length,
        data: list.objects.slice(from, from + limit),
      });
    }
    if (route === "POST /v1/stripecli/sessions") {
      return send(200, {
        websocket_url: `ws://127.0.0.1:${server.address().port}/cli-websocket`,
        websocket_id: "cliws_fake",
        websocket_authorized_feature: "webhooks",
        secret: sessionSecret,
        reconnect_delay: 3600,
        display_connect_filter_warning: false,
        default_version: "2026-10-28.endive",
        latest_version: "2026-10-28.endive",
        device_token: "fake_device_token",
      });
    }
    if (route === "GET /v1/webhook_endpoints") {
      const all = [...endpoints.values()].sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
      const after = query.starting_after ? all.findIndex((e) => e.id === query.starting_after) + 1 : 0;
      const limit = Number(query.limit ?? 10);
      return send(200, {
        object: "list",
        url: "/v1/webhook_endpoints",
        has_more: all.length > after + limit,
        data: all.slice(after, after + limit).map(withoutSecret),
      });
    }
    if (route === "POST /v1/webhook_endpoints") {
      if (!form.url || !Array.isArray(form.enabled_events)) return fail(400, "Missing required param: url or enabled_events.");
      const endpoint = {
        id: `we_fake_${++seq}`,
        object: "webhook_endpoint",
        api_version: form.api_version ?? null,
        application: null,
        created: Math.floor(Date.now() / 1000) + seq,
        description: form.description ?? null,
        enabled_events: form.enabled_events,
        livemode: false,
        metadata: form.metadata ?? {},
        secret: `whsec_fake_endpoint_${randomBytes(12).toString("hex")}`,
        status: "enabled",
        url: form.url,
      };
      endpoints.set(endpoint.id, endpoint);
      return send(200, endpoint);
    }
    const one = url.pathname.match(/^\/v1\/webhook_endpoints\/([^/]+)$/);
    const endpoint = one && endpoints.get(one[1]);
    if (one && !endpoint) return fail(404, `No such webhook endpoint: '${one[1]}'`);
    if (one && req.method === "GET") return send(200, withoutSecret(endpoint));
    if (one && req.method === "DELETE") {
      endpoints.delete(endpoint.id);
      return send(200, { id: endpoint.id, object: "webhook_endpoint", deleted: true });
    }
    if (one && req.method === "POST") {
      if ("api_version" in form) return fail(400, "Received unknown parameter: api_version");
      if (form.url) endpoint.url = form.url;
      if (form.enabled_events) endpoint.enabled_events = form.enabled_events;
      if (form.description !== undefined) endpoint.description = form.description;
      if (form.disabled !== undefined) endpoint.status = form.disabled === "true" ? "disabled" : "enabled";
      for (const [k, v] of Object.entries(form.metadata ?? {})) {
        if (v === "") delete endpoint.metadata[k];
        else endpoint.metadata[k] = v;
      }
      return send(200, withoutSecret(endpoint));
    }
    return fail(404, `Unrecognized request URL (${req.method}: ${url.pathname}).`);
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    if (!req.url.startsWith("/cli-websocket") || (apiKey && req.headers["websocket-id"] !== "cliws_fake")) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on("message", (data) => {
        const message = JSON.parse(String(data));
        // A thin event's response names the event (notification_id), not a conversation.
        if (message.type === "webhook_response")
          waiting.get(message.webhook_conversation_id || `thin:${message.notification_id}`)?.(message);
      });
      ws.on("close", () => {
        sockets.delete(ws);
        if (sockets.size === 0) for (const f of onDisconnect.splice(0)) f();
      });
      for (const f of onConnect.splice(0)) f();
    });
  });

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${server.address().port}`;

  return {
    base,
    sessionSecret,
    requests,
    endpoints,
    /** Adds an endpoint as if made earlier (in the Dashboard, or by an earlier run). */
    seedEndpoint(fields) {
      const endpoint = {
        id: `we_seeded_${++seq}`,
        object: "webhook_endpoint",
        api_version: null,
        application: null,
        created: Math.floor(Date.now() / 1000) - 1000 + seq,
        description: null,
        enabled_events: [],
        livemode: false,
        metadata: {},
        status: "enabled",
        url: "",
        ...fields,
      };
      endpoints.set(endpoint.id, endpoint);
      return endpoint;
    },
    /** Resolves once a CLI holds the WebSocket open. */
    cliConnected: () => (sockets.size > 0 ? Promise.resolve() : new Promise((r) => onConnect.push(r))),
    /** Resolves once no CLI holds the WebSocket open. */
    cliDisconnected: () => (sockets.size === 0 ? Promise.resolve() : new Promise((r) => onDisconnect.push(r))),
    /**
     * Pushes an event to the connected CLI the way Stripe does (signed with the session secret,
     * Stripe's delivery headers) and resolves with the CLI's `webhook_response` (status, body).
     */
    sendEvent(event) {
      const payload = JSON.stringify(event);
      const t = Math.floor(Date.now() / 1000);
      const v1 = stripeV1(payload, sessionSecret, t);
      const conversation = `wc_fake_${++seq}`;
      const answered = new Promise((resolve) => waiting.set(conversation, resolve));
      const message = {
        type: "webhook_event",
        webhook_id: "we_cli_fake",
        webhook_conversation_id: conversation,
        event_payload: payload,
        http_headers: { ...DELIVERY_HEADERS, "Stripe-Signature": `t=${t},v1=${v1}` },
        endpoint: { api_version: null },
      };
      for (const ws of sockets) ws.send(JSON.stringify(message));
      return answered;
    },
    /**
     * Answers the list API at `path` (e.g. `/v1/customers`) with `objects`, in that order, at most
     * `pageCap` per page whatever `limit` asks (so a small account still spans several pages).
     */
    serveList(path, objects, { pageCap = 100 } = {}) {
      lists.set(path, { objects, pageCap, failures: [] });
    },
    /** The next request to the list at `path` with this `startingAfter` (null: the first page) answers `status` instead, once. */
    failListOnce(path, status, { startingAfter = null } = {}) {
      lists.get(path).failures.push({ status, startingAfter });
    },
    /** Answers GET `path` (e.g. `/v1/subscriptions/sub_…`) with `object`, as Stripe's API would. */
    serveObject(path, object) {
      objects.set(path, object);
    },
    /**
     * Pushes a thin event notification to the connected CLI as Stripe does for a session with
     * --thin-events (a `v2_event` message, signed with the session secret) and resolves with the CLI's
     * `webhook_response` for it.
     */
    sendThinEvent(notification) {
      const payload = JSON.stringify(notification);
      const t = Math.floor(Date.now() / 1000);
      const v1 = stripeV1(payload, sessionSecret, t);
      const answered = new Promise((resolve) => waiting.set(`thin:${notification.id}`, resolve));
      const message = {
        type: "v2_event",
        payload,
        http_headers: { ...DELIVERY_HEADERS, "Stripe-Signature": `t=${t},v1=${v1}` },
        destination_id: "ed_cli_fake",
      };
      for (const ws of sockets) ws.send(JSON.stringify(message));
      return answered;
    },
    stop: () =>
      new Promise((resolve) => {
        for (const ws of sockets) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function withoutSecret({ secret, ...endpoint }) {
  return endpoint;
}

/** Stripe's form encoding: `a[0]=x&a[1]=y` and `a[]=x` are lists, `m[k]=v` is an object. */
function parseForm(text) {
  const out = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const m = key.match(/^([^[]+)\[([^\]]*)\]$/);
    if (!m) out[key] = value;
    else if (m[2] === "" || /^\d+$/.test(m[2])) {
      out[m[1]] ??= [];
      out[m[1]].push(value);
    } else {
      out[m[1]] ??= {};
      out[m[1]][m[2]] = value;
    }
  }
  return out;
}
