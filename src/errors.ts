import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error code this Worker answers with, and its HTTP status. The codes are a stable API:
 * dashboards, alerts and the troubleshooting table in README.md key on them.
 */
export const ERROR_STATUS = {
  signature_missing: 400,
  signature_invalid: 400,
  timestamp_out_of_tolerance: 400,
  payload_invalid: 400,
  request_invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  replay_not_allowed: 409,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  webhook_secret_missing: 500,
  webhook_secret_invalid: 500,
  config_invalid: 500,
  storage_unavailable: 500,
  internal_error: 500,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** The body of every non-2xx response. */
export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string };
}

/**
 * A failure we know how to explain. Its message is written for the person debugging and is sent
 * as-is, so it must never contain a secret or text taken from an unknown error.
 *
 * @example
 * throw new ApiError("signature_missing", "The request has no Stripe-Signature header.");
 */
export class ApiError extends HTTPException {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(ERROR_STATUS[code], { message });
    this.code = code;
  }

  /** The JSON envelope for this error. */
  toEnvelope(): ErrorEnvelope {
    return { error: { code: this.code, message: this.message } };
  }

  override getResponse(): Response {
    return Response.json(this.toEnvelope(), { status: this.status });
  }
}
