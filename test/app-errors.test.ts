import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { callWorker, testDeps } from "./helpers/worker";

// Hono's middleware (csrf(), bodyLimit(), bearerAuth(), …) fails by throwing an HTTPException with its
// own plain-text response and sometimes a message. The real app, plus one route that throws exactly
// that, so that every status goes through the real onError.
const LEAK = "whsec_should_never_leak";
const app = createApp((env) => testDeps({ env })).all("/test/hono-throws/:status", (c) => {
  const status = Number(c.req.param("status")) as ContentfulStatusCode;
  throw new HTTPException(status, { message: `middleware text with ${LEAK}`, res: new Response(`plain ${LEAK}`, { status }) });
});

function thrown(status: number): Promise<Response> {
  return callWorker(`/test/hono-throws/${status}`, { method: "POST", worker: app });
}

describe("an HTTPException thrown by Hono middleware", () => {
  it.each([
    { thrown: 400, status: 400, code: "request_invalid", hint: /could not be read/ },
    { thrown: 401, status: 401, code: "unauthorized", hint: /Authorization: Bearer <ADMIN_TOKEN>/ },
    { thrown: 403, status: 403, code: "forbidden", hint: /console's own pages/ },
    { thrown: 404, status: 404, code: "not_found", hint: /\/webhooks\/stripe/ },
    { thrown: 405, status: 405, code: "method_not_allowed", hint: /method/ },
    { thrown: 413, status: 413, code: "payload_too_large", hint: /larger than/ },
    { thrown: 429, status: 429, code: "rate_limited", hint: /Retry-After/ },
    // Statuses no code is kept for fall back to their class.
    { thrown: 415, status: 400, code: "request_invalid", hint: /could not be read/ },
    { thrown: 422, status: 400, code: "request_invalid", hint: /could not be read/ },
    { thrown: 500, status: 500, code: "internal_error", hint: /unexpected error/ },
    { thrown: 504, status: 500, code: "internal_error", hint: /unexpected error/ },
  ])("answers a thrown $thrown as $status $code", async ({ thrown: status_, status, code, hint }) => {
    const response = await thrown(status_);
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: { code, message: expect.stringMatching(hint) } });
    // Neither the exception's message nor its plain-text response reaches the client.
    expect(text).not.toContain(LEAK);
  });

  it("logs a thrown 5xx by status and class only, never its message", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
    await thrown(503);
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { level: "error", msg: "unhandled_error", path: "/test/hono-throws/503", error: "Error", status: 503 },
    ]);
  });
});
