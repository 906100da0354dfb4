// A CPU profile of (a) under load, taken through workerd's inspector (Chrome DevTools protocol,
// `Profiler` domain), with self time grouped by the bundled module each sample falls in. esbuild
// marks every module in the bundle with a `// node_modules/<pkg>/…` or `// src/…` comment line,
// which is what maps a bundle line back to hono, drizzle-orm, stripe or our own files.
import { readFileSync } from "node:fs";
import { buildEvents, signDelivery } from "./deliveries.mjs";
import { runLoad } from "./load.mjs";
import { startWorker } from "./targets.mjs";

/** Profiles `deliveries` new deliveries at 16 connections; returns shares of sampled CPU by module. */
export async function profileWorker(target, { port, deliveries }) {
  const inspectorPort = port + 1;
  const server = await startWorker(target, { port, inspectorPort });
  try {
    const sign = (events) => events.map((e) => ({ id: e.id, ...signDelivery(e.body) }));
    await runLoad({ url: server.webhookUrl, deliveries: sign(buildEvents("profwarm", 200)), concurrency: 16 });
    const list = await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json();
    const entry = list.find((t) => t.id?.includes("bench") || t.title?.includes("bench")) ?? list[0];
    const inspector = await connect(entry.webSocketDebuggerUrl);
    await inspector.call("Profiler.enable");
    await inspector.call("Profiler.setSamplingInterval", { interval: 200 });
    await inspector.call("Profiler.start");
    await runLoad({ url: server.webhookUrl, deliveries: sign(buildEvents("prof", deliveries)), concurrency: 16 });
    const { profile } = await inspector.call("Profiler.stop");
    inspector.close();
    return { deliveries, groups: groupByModule(profile, target.modules[0]) };
  } finally {
    await server.stop();
  }
}

function connect(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let nextId = 1;
    const pending = new Map();
    ws.onmessage = (m) => {
      const msg = JSON.parse(m.data);
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      msg.error ? p.reject(new Error(msg.error.message)) : p.resolve(msg.result);
    };
    ws.onerror = () => reject(new Error(`cannot connect to the inspector at ${url}`));
    ws.onopen = () =>
      resolve({
        call: (method, params = {}) =>
          new Promise((res, rej) => {
            const id = nextId++;
            pending.set(id, { resolve: res, reject: rej });
            ws.send(JSON.stringify({ id, method, params }));
          }),
        close: () => ws.close(),
      });
  });
}

function groupByModule(profile, bundlePath) {
  const marks = [];
  readFileSync(bundlePath, "utf8")
    .split("\n")
    .forEach((line, i) => {
      // esbuild writes the path relative to the project (`../…/node_modules/…` when node_modules is a symlink).
      const pkg = line.match(/^\/\/ (?:\S*\/)?node_modules\/((?:@[^/]+\/)?[^/]+)\//);
      const own = line.match(/^\/\/ (src\/\S+)$/);
      if (pkg) marks.push({ line: i, name: `package ${pkg[1]}` });
      else if (own) marks.push({ line: i, name: own[1] });
    });
  const moduleAt = (line) => {
    let lo = 0,
      hi = marks.length - 1,
      found = "bundle preamble";
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (marks[mid].line <= line) {
        found = marks[mid].name;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  };
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const { callFrame: f } = nodes.get(id);
    const dt = profile.timeDeltas[i + 1] ?? 0;
    if (f.functionName === "(idle)") return;
    let name;
    if (f.url.endsWith("index.js") && f.lineNumber >= 0) name = moduleAt(f.lineNumber);
    else if (f.url === "") name = f.functionName.startsWith("(") ? f.functionName : `runtime built-in ${f.functionName || "(unnamed)"}`;
    else name = `runtime: ${f.url.split("/").pop()}`;
    totals.set(name, (totals.get(name) ?? 0) + dt);
    all += dt;
  });
  return [...totals.entries()]
    .sort((x, y) => y[1] - x[1])
    .slice(0, 12)
    .map(([name, t]) => ({ name, share: t / all }));
}
