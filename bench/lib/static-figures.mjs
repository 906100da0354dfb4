// Figures that need no load: startup time from `wrangler check startup`, and the machine and
// versions the run happened on.
import { readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { wrangler } from "./targets.mjs";

const ROOT = new URL("../../", import.meta.url).pathname;

/**
 * Runs `wrangler check startup` `runs` times (it builds the Worker and profiles its startup in a
 * local workerd) and returns the median "Active" time: CPU time spent starting, excluding idle.
 */
export function measureStartup(runs = 3) {
  const samples = [];
  // A profile with no sample in the startup window reports 0 ms: not a measurement, so run again.
  for (let i = 0; samples.length < runs && i < runs * 3; i++) {
    const outfile = join(tmpdir(), `stripe-wh-bench-startup-${process.pid}-${i}.cpuprofile`);
    const output = wrangler(["check", "startup", "--outfile", outfile]);
    const active = output.match(/Active:\s*([\d.]+) ms/);
    const window = output.match(/Profile window:\s*([\d.]+) ms/);
    if (!active) throw new Error(`no "Active:" line in wrangler check startup output:\n${output}`);
    const topFunctions = Number(active[1]) > 0 ? topSelfTime(outfile) : [];
    rmSync(outfile, { force: true });
    if (Number(active[1]) > 0) samples.push({ activeMs: Number(active[1]), windowMs: window ? Number(window[1]) : NaN, topFunctions });
  }
  if (samples.length === 0) throw new Error("wrangler check startup never sampled the startup phase");
  samples.sort((a, b) => a.activeMs - b.activeMs);
  return { runs: samples.length, median: samples[Math.floor(samples.length / 2)], all: samples.map((s) => s.activeMs) };
}

/** The functions with the most self time in a .cpuprofile (where startup time goes). */
function topSelfTime(file, limit = 5) {
  const profile = JSON.parse(readFileSync(file, "utf8"));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const deltas = profile.timeDeltas ?? [];
  profile.samples?.forEach((id, i) => {
    const node = byId.get(id);
    const f = node.callFrame;
    const name = `${f.functionName || "(anonymous)"} ${f.url ? f.url.split("/").pop() : ""}:${f.lineNumber + 1}`;
    self.set(name, (self.get(name) ?? 0) + (deltas[i + 1] ?? 0) / 1000);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, ms]) => ({ name, ms }));
}

/** nproc, CPU model, memory, and the versions of everything measured. */
export function machineAndVersions() {
  // Read from node_modules directly: some packages do not export their package.json.
  const version = (pkg) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
    } catch {
      return "not installed";
    }
  };
  return {
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: (totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    workerd: version("workerd"),
    wrangler: version("wrangler"),
    miniflare: version("miniflare"),
    express: version("express"),
    stripe: version("stripe"),
    hono: version("hono"),
    drizzle: version("drizzle-orm"),
    loadavg: readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" "),
  };
}
