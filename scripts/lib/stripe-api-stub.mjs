// A stand-in for the Stripe API on a loopback port, for `npm run send -- --thin`: it answers GET for
// the objects it was given, as Stripe's API would (the JSON object, 200), and anything else with
// Stripe's 404 error shape. The Worker reaches it through STRIPE_API_BASE; nothing leaves the machine.
import { createServer } from "node:http";

/**
 * Starts the stub on `host:port` serving `objects` (API path → JSON body). Resolves to { requests,
 * stop } (each request: method, path, whether it carried a Bearer key, its Stripe-Context), or
 * rejects with the listen error (EADDRINUSE when something else holds the port).
 */
export function startStripeApiStub({ host, port, objects }) {
  const requests = [];
  const server = createServer((req, res) => {
    const path = new URL(req.url, "http://stub").pathname;
    const object = req.method === "GET" ? objects[path] : undefined;
    requests.push({
      method: req.method,
      path,
      status: object ? 200 : 404,
      bearer: /^Bearer \S+/.test(req.headers.authorization ?? ""),
      context: req.headers["stripe-context"] ?? null,
    });
    res.writeHead(object ? 200 : 404, { "content-type": "application/json", "request-id": `req_stub_${requests.length}` });
    res.end(
      JSON.stringify(
        object ?? {
          error: {
            type: "invalid_request_error",
            code: "resource_missing",
            message: `No such object: ${path} (the local stub serves only the event's related object)`,
          },
        },
      ),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () =>
      resolve({
        requests,
        stop: () =>
          new Promise((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}
