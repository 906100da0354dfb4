import { expect } from "vitest";
import { ERROR_STATUS, type ErrorCode } from "../../src/errors";

/**
 * Asserts the response is the error envelope `{"error":{"code","message"}}` with a code from
 * src/errors.ts whose status is the response's, and that no secret reached it. Returns the code.
 */
export async function expectErrorEnvelope(response: Response, secrets: readonly string[] = []): Promise<ErrorCode> {
  expect(response.headers.get("content-type")).toMatch(/^application\/json/);
  const text = await response.text();
  const body = JSON.parse(text) as { error: { code: ErrorCode; message: unknown } };
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).sort()).toEqual(["code", "message"]);
  expect(Object.keys(ERROR_STATUS)).toContain(body.error.code);
  expect(response.status).toBe(ERROR_STATUS[body.error.code]);
  expect(body.error.message).toEqual(expect.any(String));
  expect(body.error.message).not.toBe("");
  for (const secret of secrets) expect(text).not.toContain(secret);
  return body.error.code;
}

/** Asserts the response accepted the delivery of `id` (new or duplicate) and returns whether it was a duplicate. */
export async function expectReceipt(response: Response, id: string): Promise<boolean> {
  expect(response.status).toBe(200);
  const body = (await response.json()) as { received: boolean; id: string; duplicate: boolean };
  expect(body).toEqual({ received: true, id, duplicate: expect.any(Boolean) });
  return body.duplicate;
}
