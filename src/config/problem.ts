import { ApiError } from "../errors";

/** The Worker's variables and secrets that configuration reads. */
export type ConfigVariable =
  | "STRIPE_WEBHOOK_SECRET"
  | "STRIPE_WEBHOOK_TOLERANCE_SECONDS"
  | "LEDGER_RETENTION_DAYS"
  | "D1_MAX_BYTES"
  | "STRIPE_API_BASE"
  | "ALERT_WEBHOOK_URL"
  | "STRIPE_SECRET_KEY"
  | "WEBHOOK_URL"
  | "ADMIN_TOKEN"
  | "STRIPE_MODE"
  | "STRIPE_API_RATE"
  | "STRIPE_CONNECT_BILLING"
  | "STRIPE_CONNECT_ACCOUNTS"
  | "APP_USER_METADATA_KEY"
  | "PAST_DUE_GRANTS_ACCESS";

/**
 * A variable whose value is refused: which one, the code it is answered with where a response is
 * made, and a message naming the variable and how to fix it (never its value).
 */
export interface ConfigProblem {
  variable: ConfigVariable;
  code: "webhook_secret_missing" | "webhook_secret_invalid" | "config_invalid";
  message: string;
}

/**
 * The answer for a problem, where one is made (a delivery, `/health`, an admin call).
 *
 * @example
 * if (problem) throw problemError(problem);
 */
export function problemError(problem: ConfigProblem): ApiError {
  return new ApiError(problem.code, problem.message);
}
