#!/usr/bin/env node
// Fails when the source tree stops being an honest map of the architecture (`npm run lint` runs it):
// 1. an import runs back up a layer: each top-level unit of src/ (a folder, or a file at the top) has
//    a layer in LAYERS, and a module may import from its own unit or from a unit of a lower or the
//    same layer, never from a higher one. Type-only imports count: they are dependencies too;
// 2. two units import each other, directly or round a loop (within a layer too);
// 3. a file in src/ is longer than 250 lines without saying why in a comment in its first 5 lines
//    ("longer than 250 lines because …").
// Prints each offence as `file: …`; exits 1 if any.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";

/** Bottom to top. A delivery, a queue batch and a cron tick each run down this list. */
const LAYERS = [
  ["log", "errors"], // what everything may use
  ["ledger"], // the event ledger's statuses, timing and event type: pure
  ["config"], // the variables and secrets, parsed
  ["db", "stripe"], // D1 statements and reads; Stripe's SDK (verification, the API client)
  ["handlers"], // the handler registry, running one event's handlers, once-only hooks
  ["billing"], // the built-in billing handlers and the billing state they keep
  ["deps"], // one invocation's dependencies
  ["queue"], // sending to and consuming the events queue
  ["archive", "maintenance", "recovery", "replay", "endpoint-check", "health", "backfill", "alerts"], // services
  ["http"], // what the HTTP surfaces share
  ["routes", "console", "cron", "entrypoints"], // the Worker's surfaces
  ["app", "worker", "index"], // the entry
];
const MAX_LINES = 250;

const SRC = "src";
const rank = new Map(LAYERS.flatMap((units, i) => units.map((u) => [u, i])));
const problems = [];

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** The top-level unit of src/ a path belongs to: its first folder, or its file name without extension. */
function unitOf(path) {
  const [first, ...rest] = relative(SRC, path).split(sep);
  return rest.length > 0 ? first : first.replace(/\.tsx?$/, "");
}

function resolve(from, specifier) {
  const base = normalize(join(dirname(from), specifier));
  for (const candidate of [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts"), join(base, "index.tsx")]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {}
  }
  return null;
}

const edges = new Map(); // unit → Map(unit → first "file → file" seen)
for (const file of files(SRC)) {
  const text = readFileSync(file, "utf8");
  const lines = text.split("\n");
  if (lines.length > MAX_LINES && !/longer than 250 lines because/i.test(lines.slice(0, 5).join("\n"))) {
    problems.push(`${file}: ${lines.length} lines (max ${MAX_LINES} without a reason in its first lines)`);
  }
  for (const match of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"(\.[^"]+)"/gms)) {
    const target = resolve(file, match[1]);
    if (target === null) continue; // tsc reports it
    const [from, to] = [unitOf(file), unitOf(target)];
    if (from === to) continue;
    if (!rank.has(from) || !rank.has(to)) {
      problems.push(`${file}: ${rank.has(from) ? to : from} is in no layer of scripts/check-structure.mjs: add it`);
      continue;
    }
    if (rank.get(to) > rank.get(from)) problems.push(`${file}: imports ${target}, a layer above it (${to} over ${from})`);
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${file} → ${target}`);
  }
}

// A loop between units (the layers allow imports within one): found by a depth-first search.
const state = new Map();
function visit(unit, path) {
  state.set(unit, "open");
  for (const [next, where] of edges.get(unit) ?? []) {
    if (state.get(next) === "open") {
      const loop = [...path.slice(path.indexOf(next)), unit, next].join(" → ");
      problems.push(`${where}: closes the loop ${loop}`);
    } else if (!state.has(next)) visit(next, [...path, unit]);
  }
  state.set(unit, "done");
}
for (const unit of edges.keys()) if (!state.has(unit)) visit(unit, []);

for (const problem of problems) console.error(problem);
process.exit(problems.length > 0 ? 1 : 0);
