// The "Stripe API rate discipline" section of RESULTS.md, which `npm run bench:rate` writes and
// `npm run bench` carries over when it rewrites the rest of the file.
import { fmt } from "./measure.mjs";

export const RATE_HEADING = "## Stripe API rate discipline";

/**
 * `text` with the section under `heading` (up to the next `## ` heading or the end) replaced by
 * `section`, or with `section` appended when there is none. Every other section is left as it is.
 */
export function withSection(text, heading, section) {
  const body = section.endsWith("\n") ? section : `${section}\n`;
  const at = sectionStart(text, heading);
  if (at === -1) return text === "" ? body : `${text.replace(/\n*$/, "\n\n")}${body}`;
  const next = text.indexOf("\n## ", at + heading.length);
  return next === -1 ? `${text.slice(0, at)}${body}` : `${text.slice(0, at)}${body}\n${text.slice(next + 1)}`;
}

/** The section under `heading` in `text` (through the line before the next `## ` heading), or null. */
export function sectionOf(text, heading) {
  const at = sectionStart(text, heading);
  if (at === -1) return null;
  const next = text.indexOf("\n## ", at + heading.length);
  return `${text.slice(at, next === -1 ? text.length : next).replace(/\n*$/, "")}\n`;
}

function sectionStart(text, heading) {
  if (text.startsWith(`${heading}\n`)) return 0;
  const at = text.indexOf(`\n${heading}\n`);
  return at === -1 ? -1 : at + 1;
}

/** The section's Markdown: how it was run, then one column per run. */
export function renderRateSection({ date, machine, events, concurrency, apiLimit, queueSettings, runs }) {
  const ok = runs.every((r) => r.ok);
  const names = runNames(runs);
  const row = (name, value) => `| ${name} | ${runs.map(value).join(" | ")} |`;
  const seconds = (s, digits = 1) => (s === null ? "–" : `${fmt(s, digits)} s`);
  const routes = (r) => {
    const subscriptions = r.api.byRoute["GET /v1/subscriptions/:id"] ?? 0;
    return `${subscriptions} + ${r.api.total - subscriptions}`;
  };
  const status = (r, s) => r.statuses[s] ?? 0;
  return [
    RATE_HEADING,
    "",
    `Written by \`npm run bench:rate\` (\`bench/stripe-rate.mjs\`) on ${date}. ` +
      `${fmt(events, 0)} thin \`v1.customer.subscription.updated\` events, each about its own subscription, ` +
      `signed and posted at once (${concurrency} connections) to \`wrangler dev\`; the queue consumer fetches each ` +
      `subscription from a local fake Stripe API that answers 429 (\`rate_limit_error\`, \`Retry-After: 1\`) to any request ` +
      `that would make more than ${apiLimit} arrive within 1,000 ms. Each column is a run on a fresh local state.`,
    "",
    `- Machine: ${machine.nproc} CPUs (${machine.cpuModel}), ${machine.memoryGiB} GiB memory; load average at start ${machine.loadavg}. ` +
      `Node ${machine.node}, wrangler ${machine.wrangler}, workerd ${machine.workerd}, stripe ${machine.stripe}.`,
    `- Worker: \`wrangler dev src/index.ts\` on a fresh local state (migrations applied), its own env file (STRIPE_MODE=test, ` +
      "a random signing secret and ADMIN_TOKEN, any STRIPE_SECRET_KEY, STRIPE_API_BASE at the fake), the cron fired every " +
      `minute. Events queue as in wrangler.toml: batches of up to ${queueSettings.maxBatchSize}, ` +
      `${queueSettings.maxBatchTimeout} s batch timeout, ${queueSettings.maxRetries} retries.`,
    `- Why STRIPE_API_RATE=20: under the ${apiLimit}/s limit with room to spare, because the budget schedules a request's ` +
      "slot and the API counts its arrival, and the time between varies a little (a busy runtime, a new connection): slots " +
      `spread over a little more than a second can arrive within one. The unset runs use wrangler.toml's ` +
      `${queueSettings.defaultApiRate}, the default.`,
    `- The fake counts every arrival, the 429s too, in a sliding 1,000 ms window: the peak is what the API saw. Drain time runs ` +
      "from the first delivery posted to the last `processed_at` in the ledger.",
    "",
    `Requirement: every event \`processed\`, none dead, the API never over ${apiLimit} requests in a second. ` +
      `**${ok ? "Met in every run" : "Not met"}** (the script exits 1 when any run misses it).`,
    "",
    `| figure | ${names.join(" | ")} |`,
    `| --- | ${runs.map(() => "---:").join(" | ")} |`,
    row("deliveries answered 200 (new)", (r) => `${r.load.ok} of ${events}`),
    row("deliveries' own time", (r) => `${seconds(r.load.seconds)} (${fmt(r.load.perSecond, 0)}/s)`),
    row("**drain time** (first delivery → last event processed)", (r) =>
      r.drainSeconds === null ? `**not drained** after ${seconds(r.polledSeconds, 0)}` : `**${seconds(r.drainSeconds)}**`,
    ),
    row("events processed / ignored / failed / dead", (r) =>
      ["processed", "ignored", "failed", "dead"].map((s) => status(r, s)).join(" / "),
    ),
    row("still received / processing at the end", (r) => `${status(r, "received")} / ${status(r, "processing")}`),
    row("Stripe API requests (subscription fetches + other)", routes),
    row("subscriptions answered 200 more than once (an answer the Worker did not use)", (r) => String(r.api.repeatedOk)),
    row(`**peak requests in any 1 s window** (limit ${apiLimit})`, (r) => `**${r.api.peak}**`),
    row("429s answered", (r) => String(r.api.byStatus[429] ?? 0)),
    row("effective API rate (requests ÷ drain time)", (r) => (r.effectiveRate === null ? "–" : `${fmt(r.effectiveRate, 1)}/s`)),
    row(
      "API in use: first request after the first delivery; first to last request",
      (r) => `${seconds(r.api.firstAfterSeconds)}; ${seconds(r.api.spanSeconds)}`,
    ),
    row(
      "requests per whole second in that span: median / max of busy seconds; idle seconds",
      (r) => `${r.api.busyMedian} / ${r.api.busyMax}; ${r.api.idleSeconds}`,
    ),
    ...(runs.some((r) => r.trace)
      ? [
          row("traced (`RATE_TRACE=1`): the budget's grants, peak in any 1 s", (r) => (r.trace ? String(r.trace.peakGrants) : "–")),
          row("traced: grant → arrival at the API, median (min – max)", (r) =>
            r.trace?.delays ? `${fmt(r.trace.delays.median, 0)} ms (${fmt(r.trace.delays.min, 0)} – ${fmt(r.trace.delays.max, 0)})` : "–",
          ),
        ]
      : []),
    row("events deferred (`events_deferred` counts, summed)", (r) => String(r.deferred)),
    row("failed attempts (`event_failed`: retried with backoff, an attempt spent), by error", (r) => {
      const entries = Object.entries(r.failedAttempts);
      return entries.length === 0 ? "0" : entries.map(([error, n]) => `${n} ${error}`).join(", ");
    }),
    row(
      "consumer invocations (`batch_processed`); with deferrals; longest",
      (r) => `${r.batches.count}; ${r.batches.withDeferrals}; ${seconds(r.batches.maxDurationMs / 1000)}`,
    ),
    row("most attempts on one event", (r) => String(r.maxAttempts)),
    row("events re-sent by the cron (`redrive` counts, summed)", (r) => String(r.redriven)),
    row("meets the requirement", (r) => (r.ok ? "yes" : "**no**")),
    "",
    ...reading(runs, names, apiLimit),
  ].join("\n");
}

/** Column names: the setting, numbered when one setting ran more than once. */
function runNames(runs) {
  const base = runs.map((r) => (r.label.startsWith("default") ? `STRIPE_API_RATE unset (${r.apiRate})` : `STRIPE_API_RATE=${r.label}`));
  const seen = new Map();
  return base.map((name) => {
    if (base.filter((b) => b === name).length === 1) return name;
    seen.set(name, (seen.get(name) ?? 0) + 1);
    return `${name}, run ${seen.get(name)}`;
  });
}

/** What the figures say beyond the table, one bullet per thing that happened, naming the runs it happened in. */
function reading(runs, names, apiLimit) {
  const where = (pick) =>
    runs
      .map((r, i) => [names[i], pick(r)])
      .filter(([, v]) => v)
      .map(([name, v]) => `${name}: ${v}`)
      .join("; ");
  const lines = [];
  if (runs.some((r) => r.api.peak > r.apiRate)) {
    lines.push(
      "- **The API saw more than STRIPE_API_RATE in a second** (" +
        where((r) => (r.api.peak > r.apiRate ? `${r.api.peak}${r.api.peak > apiLimit ? `, over the limit of ${apiLimit}` : ""}` : null)) +
        "). The budget's slots are 1000 ÷ STRIPE_API_RATE ms apart and a request is sent when its slot comes (src/stripe/budget.ts: " +
        "at most 4 in flight per invocation, so the runtime never queues one), but the time from slot to arrival varies, so a " +
        "few requests late from one second can share a window with the next second's. Before the slots (a sliding window of " +
        "grants, no limit in flight), the same run saw up to 29 at a rate of 20, and 39 in a traced run.",
    );
  }
  if (runs.some((r) => (r.failedAttempts.StripeConnectionError ?? 0) > 0 || r.api.repeatedOk > 0)) {
    lines.push(
      "- **Requests timed out while waiting for the budget** (failed attempts: " +
        where((r) => r.failedAttempts.StripeConnectionError ?? null) +
        "; subscriptions answered 200 more than once: " +
        where((r) => r.api.repeatedOk || null) +
        "). The Stripe SDK's 10 s request timeout (src/stripe/api.ts) starts before the client waits for the budget (up to " +
        "10 s, src/stripe/budget.ts), so a request that waited most of it times out, even after the API answered it, and the " +
        "SDK retries it through the budget again; when the retries time out too the attempt fails, counted towards the " +
        "dead-letter queue, instead of being deferred.",
    );
  }
  if (runs.some((r) => r.deferred > 0)) {
    lines.push(
      `- **Deferrals** (${where((r) => r.deferred || null)}): an event is deferred when its request was answered 429 (which ` +
        "also pauses the budget for the Retry-After) or when a request of its invocation would have waited more than 10 s " +
        "for the budget. It is sent again with a 30 s delay and then joins the end of whatever the local queue still holds. " +
        "A batch of 100 needs 100 ÷ STRIPE_API_RATE seconds of budget on its own: 5 s at 20, but 10 s at the default 10, " +
        "the whole of that wait, so the last requests of a batch run out of it.",
    );
  }
  return lines.length > 0 ? [...lines, ""] : [];
}
