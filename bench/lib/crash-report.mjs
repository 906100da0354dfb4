// bench/CRASH.md from one `npm run crash` run (bench/crash.mjs).
import { fmt } from "./measure.mjs";

const minutes = (seconds) => (seconds === null ? "n/a" : `${fmt(seconds / 60, 1)} min (${fmt(seconds, 0)} s)`);

export function renderCrash(r) {
  const m = r.machine;
  const statuses = (counts) =>
    Object.entries(counts)
      .map(([s, n]) => `${s} ${n}`)
      .join(", ");
  // Only the cron runs where something happened, so the table stays short.
  const eventful = r.ticks.filter((t, i) => t.resent > 0 || t.finalAcked !== (i === 0 ? r.finalAtRestart : r.ticks[i - 1].finalAcked));
  return [
    "# Crash test",
    "",
    `Written by \`npm run crash\` on ${r.date} (${fmt(r.minutes, 1)} min). ` +
      `Machine: ${m.nproc} CPUs (${m.cpuModel}), Node ${m.node}, wrangler ${m.wrangler}, workerd ${m.workerd}.`,
    "",
    "## How it was run",
    "",
    "- `wrangler dev bench/crash/worker.ts --config wrangler.toml --persist-to <temp dir>`: " +
      "local D1 and Queues, the project's migrations, queue consumers and [vars] from wrangler.toml. " +
      'The entry is the deployed Worker\'s handlers plus a `fulfil("checkout_session.paid")` and a `fulfil("invoice.paid")` hook ' +
      "whose only effect is `ctx.write(insert into crash_effects …)`, which commits with the fulfilment's done mark; " +
      "`crash_effects` has no key, so an effect that ran twice shows as two rows.",
    "- Load: distinct paid `checkout.session.completed` and `invoice.paid` deliveries, each with its own object, " +
      `signed as Stripe signs, at ${r.concurrency} keep-alive connections; every event id answered 200 is recorded as acknowledged.`,
    `- After ${r.killAt} acknowledgements, as soon as the ledger showed events claimed by the consumer (\`processing\`; ` +
      "polled while the load went on, for at most 30 s): `SIGKILL` to wrangler dev's whole process group " +
      `(${r.killed.length} processes: ${r.killed.map((p) => p.split(" ")[1]).join(", ")}), mid-load. ` +
      "Requests in flight at that moment got no answer and do not count as acknowledged.",
    "- Restart on the same persisted state, then the cron fired the way Cloudflare fires `* * * * *`, at every minute boundary, " +
      "through Miniflare's `/cdn-cgi/local/scheduled` route (`wrangler dev` never fires crons by itself), " +
      "until every acknowledged event was `processed` or `ignored` " +
      `(checked every 10 s and after each cron run) or ${r.timeoutMin} minutes passed. ` +
      "The ledger's timings are the product's own: nothing was shortened.",
    "",
    "## Result",
    "",
    "| | |",
    "| --- | ---: |",
    `| deliveries before the kill | ${r.load.count} sent in ${fmt(r.load.seconds, 1)} s (${fmt(r.load.perSecond, 0)}/s, ` +
      `p50 ${fmt(r.load.p50, 0)} ms, p99 ${fmt(r.load.p99, 0)} ms under \`wrangler dev\`) |`,
    `| **acknowledged** (200) | **${r.acknowledged}** |`,
    `| events claimed (\`processing\`) at the last poll before the kill | ${r.claimedAtKill} |`,
    `| restart (kill → \`/health\` 200 again) | ${fmt(r.restartSeconds, 1)} s |`,
    `| acknowledged events at the restart | ${statuses(r.atRestart)} |`,
    `| fulfilments at the restart (\`pending\`: claimed, effect and done mark not committed) | ${statuses(r.fulfilmentsAtRestart)} |`,
    `| … became final after the restart before the cron re-sent anything | ${r.becameFinalBeforeFirstResend ?? "n/a"} ` +
      (r.becameFinalBeforeFirstResend === 0 ? "(the queue's messages died with the process: only the cron brought the rest back)" : "") +
      " |",
    `| first re-send by the cron | ${minutes(r.firstResendSeconds)} after the restart |`,
    `| **lost** (acknowledged, no ledger row; must be 0) | **${r.lost}** |`,
    `| **not final** at the end (must be 0) | **${r.notFinal}** |`,
    "| time from the restart until every acknowledged event was final | " +
      `**${r.allFinalSeconds === null ? `not within ${r.timeoutMin} min` : minutes(r.allFinalSeconds)}** |`,
    `| acknowledged events at the end | ${statuses(r.atEnd)} |`,
    "| fulfilments per acknowledged paid object: exactly once / never / more than once (must be all / 0 / 0) | " +
      `**${r.effects.once} / ${r.effects.none} / ${r.effects.moreThanOnce}** |`,
    `| effect rows in crash_effects, all objects | ${r.effectRowsTotal} |`,
    "| ledger rows of deliveries whose answer died in the kill (Stripe would retry them; a retry is a duplicate) | " +
      `${r.unacknowledgedRows.count} (${r.unacknowledgedRows.final} final) |`,
    `| most claims of one acknowledged event (\`attempts\`) | ${r.maxAttempts} |`,
    "",
    "Cron runs after the restart that re-sent something or saw events become final:",
    "",
    "| cron run | after the restart | re-sent (the Worker's `redrive` log line) | acknowledged events final |",
    "| ---: | ---: | ---: | ---: |",
    ...eventful.map(
      (t) => `| ${r.ticks.indexOf(t) + 1} | ${fmt(t.sinceRestartS / 60, 1)} min | ${t.resent} | ${t.finalAcked} / ${r.acknowledged} |`,
    ),
    "",
    "Why it takes this long: an event still `received` at the kill lost its queue message with the process; " +
      "the cron's sweep finds it once it is `LEDGER_TIMING.graceMs` (5 min) past its arrival and re-sends it. " +
      (r.atRestart.processing
        ? "An event claimed (`processing`) at the kill keeps its lease, `LEDGER_TIMING.leaseMs` (15 min, " +
          "the longest a consumer invocation can run), before the cron may re-send it, " +
          "so the last events become final at the first cron run after their lease ran out, about 15 minutes after the kill."
        : "No acknowledged event was `processing` at the restart, so no lease had to run out."),
    "",
    r.ok
      ? "Result: **pass**: nothing acknowledged was lost, every acknowledged event is final, " +
        "and every paid object was fulfilled exactly once."
      : "Result: **FAIL**: see the rows above.",
    "",
  ].join("\n");
}
