#!/usr/bin/env node
// `npm run deploy`: the whole deploy to Cloudflare in one step, on an empty account or an existing one.
//
//   npm run deploy [-- any `wrangler deploy` flags, e.g. --message "…"]
//
// Log in first (`npx wrangler login`), or set CLOUDFLARE_API_TOKEN (and CLOUDFLARE_ACCOUNT_ID when the
// token reaches several accounts); the environment is passed to wrangler as it is.
// 1. the D1 database of each [[d1_databases]] binding without a database_id is created when the
//    account has none of that name (wrangler finds it by name from then on; nothing is written back
//    into wrangler.toml);
// 2. every queue that wrangler.toml names (producers, consumers, dead-letter queues) is created when
//    missing: `wrangler deploy` creates a producer's queue itself but refuses a consumer of a queue
//    that does not exist, which the dead-letter queue is on a new account;
// 3. the D1 migrations are applied to the remote database;
// 4. `wrangler deploy` uploads the Worker and sets its cron trigger and queue consumers: it goes live
//    only once its tables exist. The R2 bucket of the archive (the ARCHIVE binding) is created by this
//    step when the account has none of its name: the pinned wrangler provisions a bound bucket that
//    does not exist (e2e/deploy.e2e.mjs checks it), so no step of ours does it twice;
// 5. the secrets the Worker needs are checked (STRIPE_MODE may be in [vars] instead), and what is missing
//    is said with the command that sets it.
// A second run creates nothing and applies no migration again. Every wrangler call is the pinned
// wrangler from node_modules, with stdin closed so it never prompts (it takes its non-interactive
// defaults, as in CI).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { unstable_readConfig } from "wrangler";
import { WRANGLER } from "./lib/local-dev.mjs";

/**
 * The settings without which the Worker refuses deliveries (.dev.vars.example says what each is): set
 * as secrets, or (STRIPE_MODE, which is not secret) in wrangler.toml [vars].
 */
const REQUIRED_SECRETS = ["STRIPE_WEBHOOK_SECRET", "STRIPE_MODE"];
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LOGIN_HINT =
  "Logged in? Run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN (a token with Workers Scripts, D1, Queues and R2 edit " +
  "rights) and CLOUDFLARE_ACCOUNT_ID.";

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(
    "npm run deploy [-- wrangler deploy flags]: creates the D1 database and the queues when missing, applies the D1 " +
      "migrations, then deploys the Worker. See the comment at the top of scripts/deploy.mjs.",
  );
  process.exit(0);
}

const config = unstable_readConfig({ config: `${ROOT}wrangler.toml` });
const databases = config.d1_databases;
const queueNames = [
  ...new Set([...config.queues.producers.map((p) => p.queue), ...config.queues.consumers.flatMap((c) => [c.queue, c.dead_letter_queue])]),
].filter(Boolean);
const STEPS = 5;

/** A step that failed for a reason the user can act on: printed as it is, without a stack. */
class StepFailed extends Error {}

try {
  await step(1, `D1 database${databases.length === 1 ? "" : "s"}`, ensureDatabases);
  await step(2, `queues (${queueNames.join(", ")})`, ensureQueues);
  await step(3, "D1 migrations (remote)", applyMigrations);
  const url = await step(4, `Worker "${config.name}"`, deployWorker);
  await step(5, "secrets", () => checkSecrets(url));
} catch (err) {
  if (!(err instanceof StepFailed)) throw err;
  console.error(`\n✘ ${err.message}`);
  process.exit(1);
}

/** Runs step `n`, printing its title; a failure becomes a StepFailed naming the step. */
async function step(n, title, run) {
  console.log(`\n▶ [${n}/${STEPS}] ${title}`);
  try {
    return await run();
  } catch (err) {
    if (err instanceof StepFailed) throw new StepFailed(`Step ${n}/${STEPS} (${title}) failed: ${err.message}`);
    throw err;
  }
}

async function ensureDatabases() {
  const unnamed = databases.filter((d) => !d.database_id && !d.database_name);
  if (unnamed.length > 0)
    fail(`the D1 binding ${unnamed[0].binding} has neither database_name nor database_id in wrangler.toml.`, "Give it a database_name.");
  const wanted = databases.filter((d) => !d.database_id);
  for (const d of databases.filter((d) => d.database_id))
    console.log(`  ${d.binding}: database_id ${d.database_id} is set in wrangler.toml; using it as it is.`);
  if (wanted.length === 0) return;
  const listed = await wrangler(["d1", "list", "--json"], { quiet: true });
  let existing;
  try {
    existing = JSON.parse(listed.stdout).map((d) => d.name);
  } catch {
    fail(`\`wrangler d1 list --json\` did not answer a list:\n${listed.output}`, LOGIN_HINT);
  }
  for (const d of wanted) {
    if (existing.includes(d.database_name)) {
      console.log(`  ${d.binding}: "${d.database_name}" exists.`);
      continue;
    }
    console.log(`  ${d.binding}: creating "${d.database_name}"…`);
    await wrangler(["d1", "create", d.database_name], {
      quiet: true,
      hint: "If your plan's D1 limit is reached, delete an unused database (`npx wrangler d1 list`) and run npm run deploy again.",
    });
    console.log(`  ${d.binding}: created "${d.database_name}".`);
  }
}

async function ensureQueues() {
  // Looked up together: each lookup is a wrangler start of a second or two.
  const lookups = await Promise.all(queueNames.map((name) => wrangler(["queues", "info", name], { quiet: true, check: false })));
  for (const [i, name] of queueNames.entries()) {
    const { code, output } = lookups[i];
    // The answer names the queue found: the API's `name` filter is not documented as an exact match.
    if (code === 0 && output.split("\n").some((line) => line.trim() === `Queue Name: ${name}`)) {
      console.log(`  "${name}" exists.`);
      continue;
    }
    if (code !== 0 && !output.includes(`Queue "${name}" does not exist`))
      fail(`\`wrangler queues info ${name}\` failed:\n${output}`, LOGIN_HINT);
    console.log(`  creating "${name}"…`);
    await wrangler(["queues", "create", name], { quiet: true });
    console.log(`  created "${name}".`);
  }
}

async function applyMigrations() {
  for (const d of databases.filter((d) => d.migrations_dir !== undefined || d.migrations_pattern !== undefined)) {
    // By binding, not by name: wrangler resolves the database by its name, or by database_id when set.
    await wrangler(["d1", "migrations", "apply", d.binding, "--remote"], {
      hint:
        "The Worker was not deployed: a live one still runs its previous version. Fix the migration and run npm run deploy " +
        "again; the migrations already applied are not applied twice.",
    });
  }
}

/** Deploys the Worker; the workers.dev URL it printed, if any. */
async function deployWorker() {
  const { output } = await wrangler(["deploy", ...process.argv.slice(2)], {
    hint:
      "The database is migrated and the queues exist; run npm run deploy again once the cause is fixed. If the R2 bucket could " +
      "not be created, enable R2 for the account in the Cloudflare dashboard (R2 Object Storage), or remove the [[r2_buckets]] " +
      "block of wrangler.toml to deploy without the archive.",
  });
  return output.match(/https:\/\/\S+\.workers\.dev\b/)?.[0];
}

async function checkSecrets(url) {
  const listed = await wrangler(["secret", "list", "--format", "json"], { quiet: true, check: false });
  let names;
  try {
    names = JSON.parse(listed.stdout).map((s) => s.name);
  } catch {
    console.log(`  Could not list the Worker's secrets (${listed.output.trim().split("\n").at(-1)}); check them in the dashboard.`);
    names = [];
  }
  // A plain variable in wrangler.toml [vars] (STRIPE_MODE may be one) is set as much as a secret is.
  const inVars = (name) => String(config.vars?.[name] ?? "").trim() !== "";
  const missing = REQUIRED_SECRETS.filter((name) => !names.includes(name) && !inVars(name));
  const where = url ?? "https://<your-worker>.<your-subdomain>.workers.dev";
  console.log(`\n✔ Deployed${url ? `: ${url}` : "."}`);
  if (missing.length === 0) {
    console.log(`  ${REQUIRED_SECRETS.join(" and ")} are set.`);
    return;
  }
  console.log(`  Not set yet: ${missing.join(", ")}. The Worker refuses deliveries until they are:`);
  if (missing.includes("STRIPE_WEBHOOK_SECRET"))
    console.log(
      `  - STRIPE_SECRET_KEY=sk_… npm run stripe:endpoint -- --url ${where}\n` +
        "    creates the Stripe webhook endpoint and prints its signing secret; then npx wrangler secret put STRIPE_WEBHOOK_SECRET",
    );
  if (missing.includes("STRIPE_MODE"))
    console.log("  - npx wrangler secret put STRIPE_MODE   (live or test: the Stripe mode of that endpoint)");
}

/**
 * Runs the pinned wrangler in the project root with the caller's environment and stdin closed; its
 * output is shown as it comes unless `quiet`. Resolves with { code, stdout, output }; unless `check`
 * is false, a non-zero exit is a StepFailed carrying the output (when quiet) and `hint`.
 */
function wrangler(args, { quiet = false, check = true, hint = LOGIN_HINT } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRANGLER, ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let output = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      output += d;
      if (!quiet) process.stdout.write(d);
    });
    child.stderr.on("data", (d) => {
      output += d;
      if (!quiet) process.stderr.write(d);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0 || !check) return resolve({ code, stdout, output });
      const shown = quiet ? `\n${output.trim()}` : "";
      reject(new StepFailed(`\`wrangler ${args.join(" ")}\` exited with ${code}.${shown}\n${hint}`));
    });
  });
}

function fail(message, hint) {
  throw new StepFailed(`${message}\n${hint}`);
}
