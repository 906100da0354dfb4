#!/usr/bin/env node
// `npm run crash`: kill -9 mid-load, restart, and check that nothing acknowledged is lost or
// fulfilled twice (issue 9, guarantee (e)). Under `wrangler dev` (local D1 and Queues, state
// persisted to a temp dir) running bench/crash/worker.ts: the deployed handlers plus a fulfilment
// hook per kind that records one row per run in `crash_effects`.
//   1. post distinct signed deliveries (paid checkout.session.completed and invoice.paid) at a
//      steady load and record every event id answered 200;
//   2. once CRASH_KILL_AT of them are acknowledged, SIGKILL the whole wrangler dev process group
//      (the local queue lives in that process's memory and dies with it) at a moment when the
//      consumer holds claimed events, so that the lease, the slowest path back, is exercised;
//   3. restart wrangler dev on the same state and fire the cron at every minute boundary, as
//      Cloudflare would, until every acknowledged event is final or CRASH_TIMEOUT_MIN has passed;
//   4. write bench/CRASH.md. Exits 1 if anything acknowledged was lost, is not final, or was
//      fulfilled other than exactly once.
//
//   npm run crash                        the full run (about 20 minutes: claims wait out their lease)
//   CRASH_KILL_AT=300 npm run crash      kill sooner
//   CRASH_OUT=/tmp/crash.md npm run crash
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renderCrash } from "./lib/crash-report.mjs";
import { buildEvents, signDelivery } from "./lib/deliveries.mjs";
import { runLoad } from "./lib/load.mjs";
import { machineAndVersions } from "./lib/static-figures.mjs";
import { fireCron, prepareLocalState, startWranglerDev } from "./lib/wrangler-dev.mjs";

const KILL_AT = Number(process.env.CRASH_KILL_AT ?? 1000);
const CONCURRENCY = Number(process.env.CRASH_CONCURRENCY ?? 8);
const TIMEOUT_MS = Number(process.env.CRASH_TIMEOUT_MIN ?? 40) * 60_000;
const OUT = process.env.CRASH_OUT ?? new URL("CRASH.md", import.meta.url).pathname;
const PORT = { http: 8830, inspector: 8831 };
const FINAL = new Set(["processed", "ignored"]);
// The table the crash Worker's hooks write to (bench/crash/worker.ts); no key, so a second run of
// one fulfilment shows up as a second row.
const CRASH_EFFECTS_DDL =
  "CREATE TABLE crash_effects (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, object_id TEXT NOT NULL, event_id TEXT NOT NULL, " +
  "at INTEGER NOT NULL)";

const log = (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const started = Date.now();
const dir = mkdtempSync(join(tmpdir(), "stripe-wh-crash-"));
const logFile = join(dir, "wrangler-dev.log");
const devOptions = { entry: "bench/crash/worker.ts", dir, port: PORT.http, inspectorPort: PORT.inspector, logFile };

log(`State in ${dir}: applying migrations and creating crash_effects …`);
prepareLocalState(dir, [CRASH_EFFECTS_DDL]);
const tag = `crash${Date.now().toString(36)}`;
const prefix = `evt_bench_${tag}_`;
// Four times what the kill waits for, so the load is still running when it comes; signed now, well
// inside the 300 s tolerance of a load that lasts a minute or two.
const events = buildEvents(tag, KILL_AT * 4, { types: ["checkout.session.completed", "invoice.paid"], paid: true });
const objectOf = new Map(events.map((e) => [e.id, e.objectId]));

log("Starting wrangler dev …");
let dev = await startWranglerDev(devOptions);
const acked = new Set();
const stopLoad = new AbortController();
let killing = null;
let claimedAtKill = null;
let result;
try {
  log(`Posting ${events.length} paid deliveries at ${CONCURRENCY} connections; SIGKILL after ${KILL_AT} acknowledgements …`);
  const load = await runLoad({
    url: `${dev.url}/webhooks/stripe`,
    deliveries: events.map((e) => ({ id: e.id, ...signDelivery(e.body) })),
    concurrency: CONCURRENCY,
    signal: stopLoad.signal,
    check: (d, status) => {
      if (status !== 200) return `status ${status}`; // after the kill: connection errors, not acknowledged
      acked.add(d.id);
      if (acked.size === KILL_AT) killing = killWhenClaimed();
      return null;
    },
  });
  if (!killing) throw new Error(`the load ended with only ${acked.size} acknowledgements, before the kill`);
  const { killed, killedAt } = await killing;
  log(
    `Killed ${killed.length} processes (${killed.map((p) => p.split(" ")[1]).join(", ")}) with ${acked.size} acknowledged; ` +
      `load ran ${load.seconds.toFixed(1)} s at ${load.perSecond.toFixed(0)}/s.`,
  );

  dev = await startWranglerDev(devOptions);
  const restartedAt = Date.now();
  const atRestart = await readState(dev.url, prefix);
  log(
    `Restarted in ${((restartedAt - killedAt) / 1000).toFixed(1)} s; acknowledged events by status: ` +
      `${JSON.stringify(countStatuses(atRestart, acked))}`,
  );

  const logOffset = readFileSync(logFile).length; // the restarted process's log starts here
  const ticks = [];
  let state = atRestart;
  let nextTick = Math.ceil(Date.now() / 60_000) * 60_000;
  for (;;) {
    if (notFinal(state, acked) === 0 || Date.now() - restartedAt > TIMEOUT_MS) break;
    if (Date.now() >= nextTick) {
      const outcome = await fireCron(dev.url);
      await new Promise((r) => setTimeout(r, 2000)); // let the cron's waitUntil work and its log lines finish
      state = await readState(dev.url, prefix);
      const resent = redriveCounts(logFile, logOffset).reduce((a, b) => a + b, 0) - ticks.reduce((a, t) => a + t.resent, 0);
      ticks.push({ sinceRestartS: (Date.now() - restartedAt) / 1000, outcome, resent, finalAcked: acked.size - notFinal(state, acked) });
      log(`cron ${ticks.length} (${outcome}): re-sent ${resent}; acknowledged final ${acked.size - notFinal(state, acked)}/${acked.size}`);
      nextTick += 60_000;
    } else {
      await new Promise((r) => setTimeout(r, Math.min(10_000, Math.max(0, nextTick - Date.now()))));
      state = await readState(dev.url, prefix);
    }
  }
  const allFinalAt = notFinal(state, acked) === 0 ? Date.now() : null;
  result = summarise({ load, killed, claimedAtKill, acked, atRestart, state, ticks, killedAt, restartedAt, allFinalAt });
} finally {
  stopLoad.abort();
  await dev.stop();
}

const ok = result.lost === 0 && result.notFinal === 0 && result.effects.none === 0 && result.effects.moreThanOnce === 0;
writeFileSync(
  OUT,
  renderCrash({
    ...result,
    ok,
    killAt: KILL_AT,
    concurrency: CONCURRENCY,
    timeoutMin: TIMEOUT_MS / 60_000,
    minutes: (Date.now() - started) / 60_000,
    machine: machineAndVersions(),
    date: new Date().toISOString(),
  }),
);
if (ok) rmSync(dir, { recursive: true, force: true });
else log(`Kept the state and wrangler dev's log in ${dir}.`);
log(`${ok ? "Pass" : "FAIL"}: wrote ${OUT}.`);
process.exit(ok ? 0 : 1);

/**
 * Polls how many events the consumer holds claimed, while the load goes on, and kills the whole
 * process group as soon as some are (or after 30 s regardless, saying so in the report).
 */
async function killWhenClaimed() {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    claimedAtKill = (await (await fetch(`${dev.url}/__crash/claimed`)).json()).processing;
    if (claimedAtKill > 0) break;
  }
  stopLoad.abort(); // no new delivery starts; those in flight die with the process
  const killing = dev.kill(); // the SIGKILL is sent before this returns
  const killedAt = Date.now();
  return { killed: await killing, killedAt };
}

/**
 * This run's ledger rows ({ id → { status, attempts } }), effect rows per object and fulfilments by
 * status (`pending`: claimed, effect not committed), read through the crash Worker.
 */
async function readState(url, idPrefix) {
  const { events: rows, effects, fulfilments } = await (await fetch(`${url}/__crash/state?prefix=${encodeURIComponent(idPrefix)}`)).json();
  return {
    rows: new Map(rows.map((r) => [r.id, r])),
    effects: new Map(effects.map((e) => [e.object_id, e.n])),
    fulfilments: Object.fromEntries(fulfilments.map((f) => [f.status, f.n])),
  };
}

function notFinal(state, ids) {
  let n = 0;
  for (const id of ids) if (!FINAL.has(state.rows.get(id)?.status)) n++;
  return n;
}

function countStatuses(state, ids) {
  const counts = {};
  for (const id of ids) {
    const status = state.rows.get(id)?.status ?? "no row";
    counts[status] = (counts[status] ?? 0) + 1;
  }
  return counts;
}

/** The `count` of every "redrive" log line the Worker wrote after `offset` in wrangler dev's output. */
function redriveCounts(file, offset) {
  const text = readFileSync(file).subarray(offset).toString("utf8");
  return [...text.matchAll(/"msg":"redrive"[^\n]*?"count":(\d+)/g)].map((m) => Number(m[1]));
}

function summarise({ load, killed, claimedAtKill, acked, atRestart, state, ticks, killedAt, restartedAt, allFinalAt }) {
  const effects = { once: 0, none: 0, moreThanOnce: 0 };
  for (const id of acked) {
    const n = state.effects.get(objectOf.get(id)) ?? 0;
    effects[n === 1 ? "once" : n === 0 ? "none" : "moreThanOnce"]++;
  }
  const unacked = [...state.rows.keys()].filter((id) => !acked.has(id));
  // Had the queue outlived the kill, rows left unfinished would be processed within seconds of the
  // restart; the cron can re-send them only after their grace or lease, minutes later.
  const firstResend = ticks.findIndex((t) => t.resent > 0);
  const finalAtRestart = acked.size - notFinal(atRestart, acked);
  const finalBeforeResend = firstResend === -1 ? null : firstResend === 0 ? finalAtRestart : ticks[firstResend - 1].finalAcked;
  return {
    load,
    killed,
    claimedAtKill,
    acknowledged: acked.size,
    lost: [...acked].filter((id) => !state.rows.has(id)).length,
    notFinal: notFinal(state, acked),
    atRestart: countStatuses(atRestart, acked),
    fulfilmentsAtRestart: atRestart.fulfilments,
    atEnd: countStatuses(state, acked),
    // Rows whose insert committed but whose answer died with the process: Stripe would retry them.
    unacknowledgedRows: { count: unacked.length, final: unacked.filter((id) => FINAL.has(state.rows.get(id).status)).length },
    effects,
    effectRowsTotal: [...state.effects.values()].reduce((a, b) => a + b, 0),
    maxAttempts: Math.max(0, ...[...acked].map((id) => state.rows.get(id)?.attempts ?? 0)),
    finalAtRestart,
    becameFinalBeforeFirstResend: finalBeforeResend === null ? null : finalBeforeResend - finalAtRestart,
    firstResendSeconds: firstResend === -1 ? null : ticks[firstResend].sinceRestartS,
    restartSeconds: (restartedAt - killedAt) / 1000,
    allFinalSeconds: allFinalAt === null ? null : (allFinalAt - restartedAt) / 1000,
    ticks,
  };
}
