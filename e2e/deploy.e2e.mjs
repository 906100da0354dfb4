// Named *.e2e.mjs (not *.test.mjs) so that vitest, which runs test/ inside workerd, never picks it up.
// `npm run deploy` end to end, offline: the committed project (a clone of HEAD, so what is tested is
// what a user checks out, without the developer's .dev.vars or .wrangler state) deployed twice by the
// pinned wrangler to a local fake of the Cloudflare v4 API (e2e/fake-cloudflare.mjs) holding an empty
// account. The fake backs D1 with real SQLite, so the migrations really run.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, before, describe, it } from "node:test";
import { unstable_readConfig } from "wrangler";
import { startFakeCloudflare } from "./fake-cloudflare.mjs";
import { ROOT } from "./worker.mjs";

const TOKEN = "fake-cloudflare-api-token-for-e2e";
const ACCOUNT = "0123456789abcdef0123456789abcdef";
const config = unstable_readConfig({ config: join(ROOT, "wrangler.toml") });
const MIGRATIONS = readdirSync(join(ROOT, "migrations"))
  .filter((f) => f.endsWith(".sql"))
  .sort();
const [DB] = config.d1_databases;

let work;

/** A clone of the committed project with the worktree's node_modules linked in (no second install). */
function cloneProject() {
  const dir = join(work, `project-${readdirSync(work).length}`);
  const cloned = spawnSync("git", ["clone", "--quiet", "--depth", "1", `file://${ROOT}`, dir], { encoding: "utf8" });
  assert.equal(cloned.status, 0, cloned.stderr);
  symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/**
 * Runs `npm run deploy` in `cwd` against the fake (npm itself, as a user would), with a HOME of its
 * own so that no wrangler login or config of the developer's is used. Resolves with { status, output }.
 */
function npmRunDeploy(cwd, fake, { token = TOKEN } = {}) {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith("CLOUDFLARE_") || name.startsWith("WRANGLER_")) delete env[name];
  delete env.XDG_CONFIG_HOME;
  Object.assign(env, {
    HOME: mkdtempSync(join(work, "home-")),
    CI: "true",
    WRANGLER_SEND_METRICS: "false",
    CLOUDFLARE_API_TOKEN: token,
    CLOUDFLARE_ACCOUNT_ID: ACCOUNT,
    CLOUDFLARE_API_BASE_URL: fake.base,
  });
  // npm_execpath: the npm running `npm run test:e2e`; plain `npm` when the file is run directly.
  const [command, args] = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ["npm", []];
  const child = spawn(command, [...args, "run", "deploy"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, output })));
}

const calls = (fake, method, re, from = 0) => fake.requests.slice(from).filter((r) => r.method === method && re.test(r.path));
const queueByName = (fake, name) => [...fake.state.queues.values()].find((q) => q.queue_name === name);
const tables = (db) =>
  db
    .prepare("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name != 'd1_migrations' ORDER BY type, name")
    .all()
    .map((r) => ({ ...r }));

before(() => {
  work = mkdtempSync(join(tmpdir(), "deploy-e2e-"));
});
after(() => rmSync(work, { recursive: true, force: true }));

describe("npm run deploy (pinned wrangler, fake Cloudflare API, empty account)", () => {
  let fake;
  let project;
  let first;
  let second;
  let afterFirst;

  before(async () => {
    fake = await startFakeCloudflare({ token: TOKEN, accountId: ACCOUNT });
    project = cloneProject();
    first = await npmRunDeploy(project, fake);
    afterFirst = fake.requests.length;
    second = await npmRunDeploy(project, fake);
  });
  after(() => fake?.stop());

  it("deploys an empty account in one step, asking the API nothing the fake does not know", () => {
    assert.equal(first.status, 0, first.output);
    assert.deepEqual(fake.unknown, []);
    for (let n = 1; n <= 5; n++) assert.match(first.output, new RegExp(`▶ \\[${n}/5\\]`));
    assert.match(first.output, /✔ Deployed: https:\/\/stripe-webhooks\.fake-account\.workers\.dev/);
  });

  it("creates the D1 database by its wrangler.toml name, once, and wrangler.toml is left as it was", () => {
    assert.equal(DB.database_id, undefined, "wrangler.toml has no database_id to copy by hand");
    assert.deepEqual(
      [...fake.state.databases.values()].map((d) => d.name),
      ["stripe-webhooks"],
    );
    assert.equal(calls(fake, "POST", /\/d1\/database$/).length, 1);
    assert.equal(readFileSync(join(project, "wrangler.toml"), "utf8"), readFileSync(join(ROOT, "wrangler.toml"), "utf8"));
  });

  it("creates the archive's R2 bucket by its wrangler.toml name, once", () => {
    assert.deepEqual(
      config.r2_buckets.map((b) => b.binding),
      ["ARCHIVE"],
    );
    assert.deepEqual([...fake.state.buckets.keys()], ["stripe-webhooks-archive"]);
    assert.equal(calls(fake, "POST", /\/r2\/buckets$/).length, 1);
  });

  it("creates both queues, the dead-letter queue included, once", () => {
    assert.deepEqual([...fake.state.queues.values()].map((q) => q.queue_name).sort(), ["stripe-events", "stripe-events-dlq"]);
    assert.deepEqual(
      calls(fake, "POST", /\/queues$/)
        .map((r) => r.body.queue_name)
        .sort(),
      ["stripe-events", "stripe-events-dlq"],
    );
  });

  it("makes the Worker the consumer of both queues with wrangler.toml's settings, the dead-letter queue on the first", () => {
    const events = queueByName(fake, "stripe-events");
    const dlq = queueByName(fake, "stripe-events-dlq");
    assert.equal(events.consumers.length, 1);
    assert.equal(dlq.consumers.length, 1);
    assert.equal(events.consumers[0].script, "stripe-webhooks");
    assert.equal(events.consumers[0].dead_letter_queue, "stripe-events-dlq");
    assert.equal(dlq.consumers[0].script, "stripe-webhooks");
    assert.equal(dlq.consumers[0].dead_letter_queue, undefined);
    for (const consumer of config.queues.consumers) {
      const [recorded] = queueByName(fake, consumer.queue).consumers;
      assert.deepEqual(recorded.settings, {
        batch_size: consumer.max_batch_size,
        max_retries: consumer.max_retries,
        max_wait_time_ms: consumer.max_batch_timeout * 1000,
        ...(consumer.max_concurrency === undefined ? {} : { max_concurrency: consumer.max_concurrency }),
      });
    }
    assert.equal(events.consumers[0].settings.batch_size, 100, "the events consumer takes the Queues maximum batch");
  });

  it("sets the cron trigger and enables the workers.dev URL", () => {
    const script = fake.state.scripts.get("stripe-webhooks");
    assert.deepEqual(
      script.schedules.map((s) => s.cron),
      ["* * * * *"],
    );
    assert.deepEqual(
      calls(fake, "POST", /\/workers\/scripts\/stripe-webhooks\/subdomain$/).map((r) => r.body.enabled),
      [true, true],
      "once per deploy",
    );
  });

  it("uploads the Worker with every binding of wrangler.toml, D1 bound to the database it created", () => {
    const script = fake.state.scripts.get("stripe-webhooks");
    const [database] = fake.state.databases.values();
    const byName = Object.fromEntries(script.metadata.bindings.map((b) => [b.name, b]));
    assert.deepEqual(byName.DB, { type: "d1", name: "DB", id: database.uuid });
    assert.deepEqual(byName.EVENTS_QUEUE, { type: "queue", name: "EVENTS_QUEUE", queue_name: "stripe-events" });
    for (const limiter of config.ratelimits) {
      assert.equal(byName[limiter.name].type, "ratelimit");
      assert.equal(byName[limiter.name].namespace_id, limiter.namespace_id);
      assert.deepEqual(byName[limiter.name].simple, { ...limiter.simple });
    }
    for (const [name, value] of Object.entries(config.vars)) assert.deepEqual(byName[name], { name, type: "plain_text", text: value });
    for (const object of config.durable_objects.bindings) {
      assert.deepEqual(byName[object.name], { type: "durable_object_namespace", name: object.name, class_name: object.class_name });
    }
    for (const bucket of config.r2_buckets) {
      assert.deepEqual(byName[bucket.binding], { type: "r2_bucket", name: bucket.binding, bucket_name: bucket.bucket_name });
    }
    assert.deepEqual(
      Object.keys(byName).sort(),
      [
        "DB",
        "EVENTS_QUEUE",
        ...config.r2_buckets.map((b) => b.binding),
        ...config.ratelimits.map((r) => r.name),
        ...config.durable_objects.bindings.map((b) => b.name),
        ...Object.keys(config.vars),
      ].sort(),
    );
    // The Durable Object's class is created by the first deploy's migration.
    assert.equal(script.migrationTag, config.migrations.at(-1).tag);
    assert.equal(script.metadata.compatibility_date, config.compatibility_date);
    assert.deepEqual(script.metadata.compatibility_flags, config.compatibility_flags);
    assert.ok(script.modules.length > 0, "the bundle was uploaded");
  });

  it("applies every migration in migrations/ to the remote database before the Worker goes live", () => {
    const db = fake.sqlite("stripe-webhooks");
    assert.deepEqual(
      db
        .prepare("SELECT name FROM d1_migrations ORDER BY id")
        .all()
        .map((r) => r.name),
      MIGRATIONS,
    );
    // The schema is exactly what the migrations make when run in order on a bare SQLite.
    const reference = new DatabaseSync(":memory:");
    for (const file of MIGRATIONS) reference.exec(readFileSync(join(ROOT, "migrations", file), "utf8"));
    assert.deepEqual(tables(db), tables(reference));
    assert.ok(tables(db).some((t) => t.name === "stripe_events"));
    reference.close();

    const migrationWrites = calls(fake, "POST", /\/query$/).filter((r) => /INSERT INTO "d1_migrations"/.test(r.body.sql));
    assert.equal(migrationWrites.length, MIGRATIONS.length);
    const upload = fake.requests.findIndex((r) => r.method === "PUT" && /\/workers\/scripts\/stripe-webhooks$/.test(r.path));
    const created = fake.requests.findIndex((r) => r.method === "POST" && /\/d1\/database$/.test(r.path));
    assert.ok(created < fake.requests.indexOf(migrationWrites[0]), "the database exists before its migrations run");
    assert.ok(fake.requests.indexOf(migrationWrites.at(-1)) < upload, "the last migration ran before the upload");
  });

  it("says which secrets are still missing and how to set them", () => {
    assert.match(first.output, /Not set yet: STRIPE_WEBHOOK_SECRET, STRIPE_MODE\./);
    assert.match(first.output, /npm run stripe:endpoint -- --url https:\/\/stripe-webhooks\.fake-account\.workers\.dev/);
    assert.match(first.output, /npx wrangler secret put STRIPE_MODE/);
  });

  it("a second run creates nothing, applies no migration again, and deploys a new version with the same bindings", () => {
    assert.equal(second.status, 0, second.output);
    assert.deepEqual(fake.unknown, []);
    assert.equal(fake.state.databases.size, 1);
    assert.equal(fake.state.queues.size, 2);
    assert.deepEqual(calls(fake, "POST", /\/d1\/database$|\/queues$|\/consumers$|\/r2\/buckets$/, afterFirst), []);
    assert.equal(calls(fake, "PUT", /\/consumers\/[^/]+$/, afterFirst).length, 2, "both consumers updated in place");
    for (const q of fake.state.queues.values()) assert.equal(q.consumers.length, 1);
    assert.deepEqual(
      calls(fake, "POST", /\/query$/, afterFirst).filter((r) => /INSERT INTO "d1_migrations"/.test(r.body.sql)),
      [],
    );
    assert.match(second.output, /No migrations to apply/);
    assert.equal(fake.sqlite("stripe-webhooks").prepare("SELECT count(*) AS n FROM d1_migrations").get().n, MIGRATIONS.length);

    const script = fake.state.scripts.get("stripe-webhooks");
    assert.equal(script.versions.length, 2);
    assert.equal(script.deployments.length, 2);
    assert.deepEqual(script.metadata.bindings, script.versions[0].metadata.bindings, "inherited bindings resolve to the same resources");
  });
});

describe("npm run deploy with a database_id in wrangler.toml (as the Deploy to Cloudflare button writes back)", () => {
  it("uses that database: creates none, migrates it, binds it", async () => {
    const fake = await startFakeCloudflare({ token: TOKEN, accountId: ACCOUNT });
    try {
      const response = await fetch(`${fake.base}/accounts/${ACCOUNT}/d1/database`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "renamed-in-the-dashboard" }),
      });
      const { uuid } = (await response.json()).result;
      const project = cloneProject();
      const toml = readFileSync(join(project, "wrangler.toml"), "utf8");
      writeFileSync(
        join(project, "wrangler.toml"),
        toml.replace(/^database_name = .*$/m, (line) => `${line}\ndatabase_id = "${uuid}"`),
      );

      const { status, output } = await npmRunDeploy(project, fake);
      assert.equal(status, 0, output);
      assert.match(output, new RegExp(`DB: database_id ${uuid} is set in wrangler.toml; using it as it is\\.`));
      assert.equal(fake.state.databases.size, 1);
      assert.equal(calls(fake, "POST", /\/d1\/database$/).length, 1, "only the test's own");
      assert.equal(fake.sqlite(uuid).prepare("SELECT count(*) AS n FROM d1_migrations").get().n, MIGRATIONS.length);
      const binding = fake.state.scripts.get("stripe-webhooks").metadata.bindings.find((b) => b.name === "DB");
      assert.deepEqual(binding, { type: "d1", name: "DB", id: uuid });
    } finally {
      await fake.stop();
    }
  });
});

describe("npm run deploy with STRIPE_MODE in wrangler.toml [vars]", () => {
  it("counts it as set and asks only for the webhook secret", async () => {
    const fake = await startFakeCloudflare({ token: TOKEN, accountId: ACCOUNT });
    try {
      const project = cloneProject();
      const toml = readFileSync(join(project, "wrangler.toml"), "utf8");
      writeFileSync(join(project, "wrangler.toml"), toml.replace(/^\[vars\]$/m, '[vars]\nSTRIPE_MODE = "live"'));

      const { status, output } = await npmRunDeploy(project, fake);
      assert.equal(status, 0, output);
      assert.match(output, /Not set yet: STRIPE_WEBHOOK_SECRET\./);
      assert.doesNotMatch(output, /secret put STRIPE_MODE/);
    } finally {
      await fake.stop();
    }
  });
});

describe("npm run deploy when a step fails", () => {
  it("names the step and what to do when the API refuses the credentials, and creates nothing", async () => {
    const fake = await startFakeCloudflare({ token: TOKEN, accountId: ACCOUNT });
    try {
      const { status, output } = await npmRunDeploy(cloneProject(), fake, { token: "not-the-token" });
      assert.equal(status, 1, output);
      assert.match(output, /✘ Step 1\/5 \(D1 database\) failed: `wrangler d1 list --json` exited with 1\./);
      assert.match(output, /Authentication error/);
      assert.match(output, /Run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN/);
      assert.equal(fake.state.databases.size, 0);
      assert.equal(fake.state.queues.size, 0);
    } finally {
      await fake.stop();
    }
  });

  it("does not deploy the Worker when a migration fails, and says so", async () => {
    const failing = MIGRATIONS.at(-1);
    const fake = await startFakeCloudflare({
      token: TOKEN,
      accountId: ACCOUNT,
      failSql: (sql) => (sql.includes(`values ('${failing}')`) ? "no such table: main.imaginary: SQLITE_ERROR" : undefined),
    });
    try {
      const { status, output } = await npmRunDeploy(cloneProject(), fake);
      assert.equal(status, 1, output);
      assert.match(output, /✘ Step 3\/5 \(D1 migrations \(remote\)\) failed: `wrangler d1 migrations apply DB --remote` exited with 1\./);
      assert.match(output, /The Worker was not deployed/);
      assert.match(output, /no such table: main\.imaginary/);
      assert.equal(fake.state.scripts.size, 0, "nothing was uploaded");
      assert.deepEqual(
        fake
          .sqlite("stripe-webhooks")
          .prepare("SELECT name FROM d1_migrations ORDER BY id")
          .all()
          .map((r) => r.name),
        MIGRATIONS.slice(0, -1),
      );
    } finally {
      await fake.stop();
    }
  });
});

describe("package.json cloudflare.bindings (the Deploy to Cloudflare button's descriptions)", () => {
  it("describes every entry of .dev.vars.example and of wrangler.toml [vars], and nothing else", () => {
    const described = Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).cloudflare.bindings);
    const example = readFileSync(join(ROOT, ".dev.vars.example"), "utf8")
      .split("\n")
      .map((l) => l.match(/^([A-Z][A-Z0-9_]*)=/)?.[1])
      .filter(Boolean);
    assert.ok(example.includes("STRIPE_WEBHOOK_SECRET") && example.includes("STRIPE_MODE"));
    assert.deepEqual([...described].sort(), [...example, ...Object.keys(config.vars)].sort());
  });
});
