/**
 * One JSON object per line on stdout, which Workers Logs indexes field by field.
 * Callers pass only identifiers, counts, codes and durations: never a secret, a payload, a stack
 * or the message of an error we did not create.
 *
 * @example
 * log("info", "delivery", { event_id: "evt_123", outcome: "accepted", duration_ms: 4 });
 */
export function log(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * What may be logged about an error of unknown origin: its class name only. The message can carry
 * customer data or secrets (a handler's fetch URL, a driver's SQL text), so it is never logged.
 * Stripe's SDK errors are named `Error`; their class (`StripeRateLimitError`, …) is in `type`.
 */
export function errorName(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const type = (err as { type?: unknown }).type;
  return err.name === "Error" && typeof type === "string" && /^Stripe[A-Za-z]*Error$/.test(type) ? type : err.name;
}
