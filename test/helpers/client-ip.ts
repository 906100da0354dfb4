/**
 * A client address no other request in the run uses (IPv6 documentation prefix), as Cloudflare sends
 * it in CF-Connecting-IP. The admin limits count per address, and their counters are not reset
 * between tests, so a test that is not about the limits sends each request from a new address.
 */
export function newClientIp(): string {
  const [a, b, c] = crypto.getRandomValues(new Uint16Array(3));
  return `2001:db8:${a!.toString(16)}:${b!.toString(16)}::${c!.toString(16)}`;
}
