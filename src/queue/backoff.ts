const BASE_DELAY_SECONDS = 10;
const MAX_DELAY_SECONDS = 60 * 60;

/**
 * Exponential backoff for a failed attempt: 10 s, 20 s, 40 s, … capped at one hour.
 *
 * @example
 * message.retry({ delaySeconds: retryDelaySeconds(3) }); // 40
 */
export function retryDelaySeconds(attempts: number): number {
  const exponent = Math.max(0, attempts - 1);
  return Math.min(BASE_DELAY_SECONDS * 2 ** exponent, MAX_DELAY_SECONDS);
}
