// Process CPU from /proc (Linux): utime + stime of a process, all threads included.
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100; // USER_HZ; fixed at 100 on Linux for /proc/<pid>/stat.

/** CPU time (user + system) a process has used so far, in milliseconds. */
export function processCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
}

/** The pid of the `workerd` child that Miniflare spawned from process `parentPid`. */
export function findWorkerdPid(parentPid) {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parentPid && comm.startsWith("workerd")) return Number(entry);
    } catch {
      // The process ended while we were looking.
    }
  }
  throw new Error(`no workerd child of ${parentPid}`);
}

/** Waits until a process stops using CPU (waitUntil work finished), then returns its CPU ms. */
export async function settledCpuMs(pid, { quietMs = 300, maxWaitMs = 15_000 } = {}) {
  const deadline = Date.now() + maxWaitMs;
  let last = processCpuMs(pid);
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = processCpuMs(pid);
    // One clock tick (10 ms) over the quiet window counts as idle.
    if (now - last <= 10 || Date.now() > deadline) return last;
    last = now;
  }
}
