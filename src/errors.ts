import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/**
 * Every error code this Worker answers with, and its HTTP status. The codes are a stable API:
 * dashboards, alerts and the troubleshooting table in docs/troubleshooting.md key on them.
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
  /** An admin call that needs the Stripe API (backfill, endpoint check) while STRIPE_SECRET_KEY is unset. */
  stripe_key_missing: 409,
  /** An archive call (list, restore) while no ARCHIVE bucket is bound. */
  archive_not_bound: 409,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  rate_limited: 429,
  webhook_secret_missing: 500,
  webhook_secret_invalid: 500,
  config_invalid: 500,
  storage_unavailable: 500,
  internal_error: 500,
  /** The Stripe API refused or did not answer a call an admin request needed (its class and status are named, never its message). */
  stripe_api_error: 502,
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
  /** Sent with the envelope, e.g. Retry-After on 429. */
  readonly headers: Record<string, string>;
  /**
   * What the operator's log line adds and the response leaves out (which configured secret, when it
   * expired, how many there are): fields a stranger must not learn. Identifiers and counts only.
   */
  readonly logFields: Record<string, string | number | null>;

  constructor(
    code: ErrorCode,
    message: string,
    options: { headers?: Record<string, string>; logFields?: Record<string, string | number | null> } = {},
  ) {
    super(ERROR_STATUS[code], { message });
    this.code = code;
    this.headers = options.headers ?? {};
    this.logFields = options.logFields ?? {};
  }

  /** The JSON envelope for this error. */
  toEnvelope(): ErrorEnvelope {
    return { error: { code: this.code, message: this.message } };
  }

  override getResponse(): Response {
    return Response.json(this.toEnvelope(), { status: this.status, headers: this.headers });
  }
}

// What the 4xx statuses of Hono's own middleware mean here, written for the person debugging. The
// exception's message and response are Hono's (or a library's) text, so neither is ever sent.
const HONO_4XX: Partial<Record<number, [ErrorCode, string]>> = {
  400: [
    "request_invalid",
    "The request could not be read: a header or body is malformed. Check the Content-Type and the body against docs/console.md.",
  ],
  401: [
    "unauthorized",
    "Authentication is required: the admin API takes `Authorization: Bearer <ADMIN_TOKEN>`; the console needs a sign-in at /admin.",
  ],
  403: [
    "forbidden",
    "Refused: console forms are accepted only from the console's own pages " +
      "(the browser's Origin and Sec-Fetch-Site headers did not say this post came from this origin). " +
      "Open /admin on this Worker and submit the form there.",
  ],
  404: [
    "not_found",
    "Nothing is served here. Stripe should post to /webhooks/stripe (snapshot events) or /webhooks/stripe/thin (thin events); " +
      "health is at GET /health.",
  ],
  405: ["method_not_allowed", "This path does not accept that method; docs/console.md lists the admin API's routes."],
  413: ["payload_too_large", "The request body is larger than this endpoint accepts."],
  429: ["rate_limited", "Too many requests from this address; wait for the Retry-After header's seconds and try again."],
};

/**
 * The envelope error for a 4xx `HTTPException` thrown by Hono's middleware (csrf(), bodyLimit(), …):
 * its status picks a stable code; a 4xx with no code of its own is answered 400 `request_invalid`.
 * (A 5xx is an unexpected error: onError logs it and answers `internal_error`.)
 *
 * @example
 * if (err instanceof HTTPException && err.status < 500) return fromHttpException(err).getResponse();
 */
export function fromHttpException(err: HTTPException): ApiError {
  const [code, message] = HONO_4XX[err.status] ?? HONO_4XX[400]!;
  return new ApiError(code, message);
}
