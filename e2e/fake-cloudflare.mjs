// A small fake of the Cloudflare v4 API on 127.0.0.1, at the network edge of the pinned wrangler
// (which honours CLOUDFLARE_API_BASE_URL). It implements only what `npm run deploy` makes wrangler
// call (ROUTES below), shaped like Cloudflare's answers: the { success, errors, messages, result }
// envelope, result_info on lists, and the error codes wrangler branches on.
// - D1: list, create, get by uuid or by name (how wrangler finds a database that wrangler.toml names
//   without a database_id), and /query and /raw backed by real SQLite (node:sqlite, one in-memory
//   database each), so the migrations really run and their tables can be inspected.
// - Queues: list (with the `name` filter, consumers inside each queue), create, get, and a queue's
//   consumers (create, update). R2: list, get, create buckets, for when a bucket is bound.
// - Workers: the upload of a script (PUT, the first time or with Durable Object migrations) or of a
//   version (POST /versions, then POST /deployments), settings, cron schedules, secrets, the
//   workers.dev subdomain. The upload metadata is kept whole, with `inherit` bindings resolved as
//   Cloudflare resolves them, so any binding type (a Durable Object, an R2 bucket) and any
//   `migrations` entry is recorded with no change here.
// Every request is recorded (`requests`); a route it does not know is answered 404 with a
// Cloudflare-style error and recorded in `unknown` as well, so a test fails on anything new wrangler asks.
import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { DatabaseSync } from "node:sqlite";
import { unstable_splitSqlQuery } from "wrangler";

/** Cloudflare's error codes that wrangler reads (7404: D1Handler tells "no such database" by it). */
const CODES = { notFound: 7003, d1NotFound: 7404, d1Exists: 7502, d1Query: 7500, queueNotFound: 11000, queueExists: 11009 };
const SCRIPT_NOT_FOUND = 10007;
const now = () => new Date().toISOString();
const hexId = () => randomUUID().replaceAll("-", "");
const error = (status, code, message) => ({ status, error: { code, message } });
const ok = (result, resultInfo) => ({ status: 200, result, resultInfo });

/**
 * Starts the fake. `token`: the only API token it accepts (401 otherwise); `accountId`: the only
 * account; `subdomain`: the account's workers.dev subdomain; `failSql(sql)`: a D1 error message to
 * refuse a query with (its batch then runs not at all), or undefined to run it. Returns its `base`
 * URL (for CLOUDFLARE_API_BASE_URL), `requests` and `unknown` ({ method, path, query, body } each),
 * the in-memory `state`, `sqlite(name)` (the node:sqlite database behind a D1 database) and `stop()`.
 */
export async function startFakeCloudflare({ token, accountId, subdomain = "fake-account", failSql }) {
  const requests = [];
  const unknown = [];
  const state = {
    subdomain,
    /** uuid → { uuid, name, created_at, db: DatabaseSync } */
    databases: new Map(),
    /** queue_id → the queue as Cloudflare answers it, its `consumers` included */
    queues: new Map(),
    /** R2 bucket name → the bucket as Cloudflare answers it */
    buckets: new Map(),
    /**
     * script name → { metadata and modules (the deployed version's), uploads (every metadata as sent),
     * versions, deployments, migrationTag (the last Durable Object migration's), settings, schedules,
     * secrets (name → text), subdomain }
     */
    scripts: new Map(),
  };

  const findDatabase = (idOrName) => state.databases.get(idOrName) ?? [...state.databases.values()].find((d) => d.name === idOrName);
  const findQueue = (name) => [...state.queues.values()].find((q) => q.queue_name === name);
  const d1Info = (d) => ({ uuid: d.uuid, name: d.name, created_at: d.created_at, version: "production", num_tables: 0, file_size: 0 });
  const withDatabase = (id, then) => {
    const database = findDatabase(id);
    return database ? then(database) : error(404, CODES.d1NotFound, "The database could not be found");
  };
  const withQueue = (id, then) => {
    const queue = state.queues.get(id) ?? findQueue(id);
    return queue ? then(queue) : error(404, CODES.queueNotFound, "Queue not found");
  };
  const withScript = (name, then) => {
    const script = state.scripts.get(name);
    return script ? then(script) : error(404, SCRIPT_NOT_FOUND, `This Worker does not exist on your account. (${name})`);
  };

  /** [method, path under /accounts/:id, handler({ params, query, body })]; the first match answers. */
  const ROUTES = [
    // D1
    ["GET", /^\/d1\/database$/, ({ query }) => paged([...state.databases.values()].map(d1Info), query)],
    [
      "POST",
      /^\/d1\/database$/,
      ({ body }) => {
        if (!body?.name) return error(400, 7400, "name is required");
        if (findDatabase(body.name)) return error(400, CODES.d1Exists, "A database with that name already exists");
        const database = { uuid: randomUUID(), name: body.name, created_at: now(), db: new DatabaseSync(":memory:") };
        state.databases.set(database.uuid, database);
        return ok(d1Info(database));
      },
    ],
    ["GET", /^\/d1\/database\/([^/]+)$/, ({ params }) => withDatabase(params[0], (d) => ok(d1Info(d)))],
    [
      "POST",
      /^\/d1\/database\/([^/]+)\/(query|raw)$/,
      ({ params, body }) =>
        withDatabase(params[0], (d) => {
          const failure = failSql?.(body?.sql ?? "");
          if (failure) return error(400, CODES.d1Query, failure);
          return runSql(d.db, body?.sql ?? "", body?.params ?? [], params[1]);
        }),
    ],

    // Queues
    [
      "GET",
      /^\/queues$/,
      ({ query }) => {
        const names = query.getAll("name");
        return paged(
          [...state.queues.values()].filter((q) => names.length === 0 || names.includes(q.queue_name)),
          query,
        );
      },
    ],
    [
      "POST",
      /^\/queues$/,
      ({ body }) => {
        if (!body?.queue_name) return error(400, 11001, "queue_name is required");
        if (findQueue(body.queue_name)) return error(409, CODES.queueExists, "A queue with this name already exists");
        const queue = {
          queue_id: hexId(),
          queue_name: body.queue_name,
          created_on: now(),
          modified_on: now(),
          producers: [],
          producers_total_count: 0,
          consumers: [],
          consumers_total_count: 0,
          settings: body.settings ?? {},
        };
        state.queues.set(queue.queue_id, queue);
        return ok(queue);
      },
    ],
    ["GET", /^\/queues\/([^/]+)$/, ({ params }) => withQueue(params[0], ok)],
    ["GET", /^\/queues\/([^/]+)\/consumers$/, ({ params }) => withQueue(params[0], (q) => ok(q.consumers))],
    [
      "POST",
      /^\/queues\/([^/]+)\/consumers$/,
      ({ params, body }) =>
        withQueue(params[0], (queue) => {
          if (body?.dead_letter_queue && !findQueue(body.dead_letter_queue))
            return error(400, 11002, `dead letter queue ${body.dead_letter_queue} does not exist`);
          if (queue.consumers.some((c) => c.script === body?.script_name))
            return error(409, 11004, "This Worker is already a consumer of this queue");
          const consumer = consumerFrom(hexId(), queue, body);
          queue.consumers.push(consumer);
          queue.consumers_total_count = queue.consumers.length;
          return ok(consumer);
        }),
    ],
    [
      "PUT",
      /^\/queues\/([^/]+)\/consumers\/([^/]+)$/,
      ({ params, body }) =>
        withQueue(params[0], (queue) => {
          const at = queue.consumers.findIndex((c) => c.consumer_id === params[1]);
          if (at === -1) return error(404, 11005, "Consumer not found");
          queue.consumers[at] = consumerFrom(params[1], queue, body);
          return ok(queue.consumers[at]);
        }),
    ],

    // R2 (no binding needs it yet): what wrangler's provisioning of an r2_buckets binding calls, so a
    // bucket added to wrangler.toml is created by `wrangler deploy` here as on Cloudflare.
    ["GET", /^\/r2\/buckets$/, () => ok({ buckets: [...state.buckets.values()] })],
    [
      "GET",
      /^\/r2\/buckets\/([^/]+)$/,
      ({ params }) =>
        state.buckets.has(params[0]) ? ok(state.buckets.get(params[0])) : error(404, 10006, "The specified bucket does not exist."),
    ],
    [
      "POST",
      /^\/r2\/buckets$/,
      ({ body }) => {
        if (!body?.name) return error(400, 10005, "name is required");
        if (state.buckets.has(body.name)) return error(409, 10004, "The bucket you tried to create already exists, and you own it.");
        state.buckets.set(body.name, { name: body.name, creation_date: now(), location: "ENAM", storage_class: "Standard" });
        return ok(state.buckets.get(body.name));
      },
    ],

    // Workers
    [
      "GET",
      /^\/workers\/subdomain$/,
      () => (state.subdomain ? ok({ subdomain: state.subdomain }) : error(404, 10007, "This account has no workers.dev subdomain")),
    ],
    [
      "PUT",
      /^\/workers\/scripts\/([^/]+)$/,
      ({ params, body }) => {
        const script = state.scripts.get(params[0]) ?? newScript(params[0]);
        const version = addVersion(script, body);
        if (version.status) return version;
        state.scripts.set(script.name, script);
        deploy(script, [{ version_id: version.id, percentage: 100 }]);
        return ok({ id: script.name, etag: hexId(), deployment_id: version.id, startup_time_ms: 1, ...settingsOf(script) });
      },
    ],
    [
      "POST",
      /^\/workers\/scripts\/([^/]+)\/versions$/,
      ({ params, body }) =>
        withScript(params[0], (script) => {
          const version = addVersion(script, body);
          if (version.status) return version;
          const resources = { script: { etag: hexId() }, bindings: version.metadata.bindings };
          return ok({ id: version.id, number: script.versions.length, resources, startup_time_ms: 1 });
        }),
    ],
    ["GET", /^\/workers\/scripts\/([^/]+)\/deployments$/, ({ params }) => withScript(params[0], (s) => ok({ deployments: s.deployments }))],
    [
      "POST",
      /^\/workers\/scripts\/([^/]+)\/deployments$/,
      ({ params, body }) =>
        withScript(params[0], (script) => {
          const versions = body?.versions ?? [];
          if (versions.length === 0 || versions.some((v) => !script.versions.some((known) => known.id === v.version_id)))
            return error(400, 10223, "A deployment names a version this Worker does not have");
          return ok(deploy(script, versions));
        }),
    ],
    // The service: how wrangler tells whether the Worker exists yet, and which Durable Object
    // migrations it has had (it sends the last one's tag as old_tag).
    [
      "GET",
      /^\/workers\/services\/([^/]+)$/,
      ({ params }) =>
        withScript(params[0], (s) => {
          const script = { id: s.name, tag: s.tag, migration_tag: s.migrationTag, created_on: s.created_on };
          return ok({ id: s.name, default_environment: { environment: "production", script }, created_on: s.created_on });
        }),
    ],
    ["GET", /^\/workers\/scripts\/([^/]+)\/settings$/, ({ params }) => withScript(params[0], (s) => ok(settingsOf(s)))],
    [
      "PATCH",
      /^\/workers\/scripts\/([^/]+)\/script-settings$/,
      ({ params, body }) => withScript(params[0], (s) => ok(Object.assign(s.settings, body))),
    ],
    ["GET", /^\/workers\/scripts\/([^/]+)\/schedules$/, ({ params }) => withScript(params[0], (s) => ok({ schedules: s.schedules }))],
    [
      "PUT",
      /^\/workers\/scripts\/([^/]+)\/schedules$/,
      ({ params, body }) =>
        withScript(params[0], (s) => {
          s.schedules = (Array.isArray(body) ? body : []).map((schedule) => ({ cron: schedule.cron, created_on: now() }));
          return ok({ schedules: s.schedules });
        }),
    ],
    // The Workers API (not the scripts one): wrangler reads the workers.dev state of a Worker there.
    [
      "GET",
      /^\/workers\/workers\/([^/]+)$/,
      ({ params }) => withScript(params[0], (s) => ok({ id: s.name, name: s.name, subdomain: s.subdomain, created_on: s.created_on })),
    ],
    ["GET", /^\/workers\/scripts\/([^/]+)\/subdomain$/, ({ params }) => withScript(params[0], (s) => ok(s.subdomain))],
    [
      "POST",
      /^\/workers\/scripts\/([^/]+)\/subdomain$/,
      ({ params, body }) =>
        withScript(params[0], (s) => {
          s.subdomain = { enabled: Boolean(body?.enabled), previews_enabled: Boolean(body?.previews_enabled ?? body?.enabled) };
          return ok(s.subdomain);
        }),
    ],
    [
      "GET",
      /^\/workers\/scripts\/([^/]+)\/secrets$/,
      ({ params }) => withScript(params[0], (s) => ok([...s.secrets.keys()].map((name) => ({ name, type: "secret_text" })))),
    ],
    [
      "PUT",
      /^\/workers\/scripts\/([^/]+)\/secrets$/,
      ({ params, body }) =>
        withScript(params[0], (s) => {
          s.secrets.set(body.name, body.text);
          return ok({ name: body.name, type: "secret_text" });
        }),
    ],
  ];

  function newScript(name) {
    return {
      name,
      tag: hexId(),
      created_on: now(),
      migrationTag: undefined,
      metadata: null,
      modules: [],
      uploads: [],
      versions: [],
      deployments: [],
      settings: {},
      schedules: [],
      secrets: new Map(),
      subdomain: { enabled: false, previews_enabled: false },
    };
  }

  /**
   * Records an upload as a new version: its metadata as sent (`uploads`), and as the version's with
   * each `inherit` binding replaced by the deployed version's binding of that name, as
   * `bindings_inherit=strict` asks Cloudflare to do (and refuse when there is none).
   */
  function addVersion(script, body) {
    script.uploads.push(body.metadata);
    const live = script.metadata?.bindings ?? [];
    const bindings = [];
    for (const binding of body.metadata.bindings ?? []) {
      const resolved = binding.type === "inherit" ? live.find((b) => b.name === binding.name) : binding;
      if (!resolved) return error(400, 10021, `Binding ${binding.name} cannot be inherited: the deployed version has none`);
      bindings.push(resolved);
    }
    const version = { id: randomUUID(), metadata: { ...body.metadata, bindings }, modules: body.modules };
    script.versions.push(version);
    script.migrationTag = body.metadata.migrations?.new_tag ?? script.migrationTag;
    return version;
  }

  /** Deploys `versions` (one at 100 % here): the deployed version's metadata and modules become the script's. */
  function deploy(script, versions) {
    const deployment = { id: randomUUID(), strategy: "percentage", versions, created_on: now() };
    script.deployments.push(deployment);
    const live = script.versions.find((v) => v.id === versions[0].version_id);
    script.metadata = live.metadata;
    script.modules = live.modules;
    return deployment;
  }

  /** What GET /settings answers: the deployed bindings, which wrangler compares with the config to inherit them. */
  function settingsOf(script) {
    const metadata = script.metadata ?? {};
    return {
      bindings: metadata.bindings ?? [],
      compatibility_date: metadata.compatibility_date,
      compatibility_flags: metadata.compatibility_flags ?? [],
      observability: metadata.observability ?? script.settings.observability,
      placement: metadata.placement ?? {},
      tail_consumers: metadata.tail_consumers ?? null,
      logpush: false,
      tags: script.settings.tags ?? [],
      usage_model: "standard",
    };
  }

  function route(method, path, query, body) {
    const account = path.match(/^\/accounts\/([^/]+)(\/.*)$/);
    if (!account) return undefined;
    if (account[1] !== accountId) return error(403, 9109, "Unauthorized to access requested resource");
    for (const [m, re, handler] of ROUTES) {
      const match = m === method && account[2].match(re);
      if (match) return handler({ params: match.slice(1).map(decodeURIComponent), query, body });
    }
    return undefined;
  }

  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const url = new URL(req.url, "http://127.0.0.1");
    const record = { method: req.method, path: url.pathname.replace(/^\/client\/v4/, ""), query: Object.fromEntries(url.searchParams) };
    requests.push(record);
    const send = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const refuse = ({ status, error: { code, message } }) =>
      send(status, { success: false, errors: [{ code, message }], messages: [], result: null });

    if (req.headers.authorization !== `Bearer ${token}`) return refuse(error(401, 10000, "Authentication error"));
    try {
      record.body = await parseBody(req.headers["content-type"] ?? "", Buffer.concat(chunks));
    } catch (err) {
      return refuse(error(400, 10026, `Could not parse the request body: ${err.message}`));
    }
    const answer = route(req.method, record.path, url.searchParams, record.body);
    if (!answer) {
      unknown.push(record);
      return refuse(error(404, CODES.notFound, `No route for that URI (fake Cloudflare API: ${req.method} ${record.path})`));
    }
    if (answer.error) return refuse(answer);
    send(200, {
      success: true,
      errors: [],
      messages: [],
      result: answer.result,
      ...(answer.resultInfo && { result_info: answer.resultInfo }),
    });
  });

  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}/client/v4`,
    requests,
    unknown,
    state,
    /** The node:sqlite database behind the D1 database `name` (undefined when there is none). */
    sqlite: (name) => findDatabase(name)?.db,
    stop: () =>
      new Promise((resolve) => {
        for (const database of state.databases.values()) database.db.close();
        server.close(resolve);
        server.closeAllConnections();
      }),
  };
}

/** A queue consumer as Cloudflare answers it: wrangler tells a Worker's consumer by `script`. */
function consumerFrom(consumerId, queue, body) {
  return {
    consumer_id: consumerId,
    queue_name: queue.queue_name,
    type: body?.type ?? "worker",
    script: body?.script_name,
    dead_letter_queue: body?.dead_letter_queue,
    settings: body?.settings ?? {},
    created_on: now(),
  };
}

/** One page of `all` as Cloudflare pages a list (`page`, `per_page`), with the result_info that wrangler pages by. */
function paged(all, query) {
  const page = Number(query.get("page") ?? 1);
  const perPage = Number(query.get("per_page") ?? 20);
  return ok(all.slice((page - 1) * perPage, page * perPage), { page, per_page: perPage, count: all.length, total_count: all.length });
}

/**
 * Runs `sql` (one or more statements) as D1's HTTP API does: all or nothing, one result per
 * statement; /query answers rows as objects, /raw as { columns, rows }. A failing statement rolls the
 * whole batch back and answers D1's error.
 */
function runSql(db, sql, params, shape) {
  const statements = unstable_splitSqlQuery(sql).filter((s) => s.trim() !== "");
  // Parameters bind to a single statement only, as in D1.
  const bound = statements.length === 1 ? params : [];
  const results = [];
  db.exec("BEGIN");
  try {
    for (const text of statements) {
      const statement = db.prepare(text);
      const started = performance.now();
      const columns = statement.columns().map((c) => c.name);
      const rows = columns.length > 0 ? statement.all(...bound) : [];
      const { changes, lastInsertRowid } = columns.length > 0 ? { changes: 0, lastInsertRowid: 0 } : statement.run(...bound);
      results.push({
        results: shape === "raw" ? { columns, rows: rows.map((r) => columns.map((c) => r[c])) } : rows,
        success: true,
        meta: {
          duration: performance.now() - started,
          changes: Number(changes),
          last_row_id: Number(lastInsertRowid),
          changed_db: Number(changes) > 0,
          rows_read: rows.length,
          rows_written: Number(changes),
          size_after: 0,
        },
      });
    }
    db.exec("COMMIT");
  } catch (err) {
    db.exec("ROLLBACK");
    return error(400, CODES.d1Query, `${err.message}: SQLITE_ERROR`);
  }
  return ok(results);
}

/** The request body: JSON, or a multipart upload (its `metadata` part parsed, each module part described). */
async function parseBody(contentType, raw) {
  if (raw.length === 0) return undefined;
  if (contentType.startsWith("multipart/form-data")) {
    const form = await new Response(raw, { headers: { "content-type": contentType } }).formData();
    const body = { metadata: null, modules: [] };
    for (const [name, value] of form) {
      if (name === "metadata") body.metadata = JSON.parse(typeof value === "string" ? value : await value.text());
      else body.modules.push({ name, type: typeof value === "string" ? "text/plain" : value.type, size: value.size ?? value.length });
    }
    return body;
  }
  const text = raw.toString("utf8");
  return /^\s*[[{]/.test(text) ? JSON.parse(text) : text;
}
