/**
 * What goes on the queue: the event id only. The event itself is read from D1, so a message never
 * nears the 128 KB queue limit and a replay needs nothing but the id.
 */
export interface EventMessage {
  id: string;
}

/** Whether a queue message body is an `EventMessage` (anything else is poison and is dropped). */
export function isEventMessage(body: unknown): body is EventMessage {
  return typeof body === "object" && body !== null && typeof (body as { id?: unknown }).id === "string";
}
