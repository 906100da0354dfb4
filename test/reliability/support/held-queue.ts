import { env } from "cloudflare:workers";
import { countingQueue } from "../../helpers/faults";

/** The longest delay Cloudflare Queues accepts for a message (12 hours). */
const HOLD_SECONDS = 43_200;

/**
 * The real queue binding, with every message sent delayed past the end of the test run and its
 * event id recorded. The Worker's own consumer runs the deployed handlers, so it must not pick
 * these messages up: the test hands them, through `consumeBatch`, to a Worker built with the
 * handlers that count side effects.
 */
export function heldQueue(real: Queue = env.EVENTS_QUEUE): { queue: Queue; sent: string[] } {
  return countingQueue(real, HOLD_SECONDS);
}
