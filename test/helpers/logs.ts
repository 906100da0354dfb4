import { expect, vi } from "vitest";

/**
 * Keeps the Worker's console lines in memory for the current test. Thousands of property runs log
 * thousands of lines; holding them here is cheaper than vitest forwarding each one, and lets the
 * property check them too.
 */
export function captureLogs(): string[] {
  const lines: string[] = [];
  for (const method of ["log", "warn", "error"] as const) {
    vi.spyOn(console, method).mockImplementation((line: unknown) => void lines.push(String(line)));
  }
  return lines;
}

/** Asserts every captured line is one JSON object with a level and a message, and none contains a secret. */
export function expectCleanLogs(lines: readonly string[], secrets: readonly string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  // Plain loops and one assertion: thousands of lines times thousands of secrets in expect() calls take minutes.
  const malformed = lines.filter((line) => {
    const entry = JSON.parse(line) as { level?: unknown; msg?: unknown };
    return !["info", "warn", "error"].includes(entry.level as string) || typeof entry.msg !== "string";
  });
  expect(malformed).toEqual([]);
  // A line can hold a secret only if it holds the secret's first characters; few lines pass that test.
  const prefixes = [...new Set(secrets.map((secret) => secret.slice(0, 6)))];
  const leaking = lines.filter((line) => prefixes.some((p) => line.includes(p)) && secrets.some((secret) => line.includes(secret)));
  expect(leaking).toEqual([]);
}
