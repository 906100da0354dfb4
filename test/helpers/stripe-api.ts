import { getResponse, type RequestHandler } from "msw";
import { vi } from "vitest";

/**
 * Stubs the Stripe API at the network edge: the global `fetch` answers from msw request handlers,
 * and any request no handler matches fails loudly. The Worker's own code (the Stripe SDK with its
 * fetch HTTP client) runs unchanged. Returns the requests seen, for assertions.
 */
export function stubStripeApi(...handlers: RequestHandler[]): Request[] {
  const seen: Request[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    seen.push(request.clone());
    const response = await getResponse(handlers, request);
    if (!response) throw new Error(`Unhandled request to the Stripe API stub: ${request.method} ${request.url}`);
    return response;
  });
  return seen;
}
