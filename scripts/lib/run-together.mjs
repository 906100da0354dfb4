// Runs several long-lived processes as one: their output interleaved line by line behind a name,
// one Ctrl-C (SIGINT) or SIGTERM stops them all, and when one exits on its own the others are
// stopped too, so nothing is left running in the background.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

// Each child gets its own process group (not on Windows, where that would open a console window),
// so a stop reaches everything it started: wrangler's workerd, for one.
const OWN_GROUP = process.platform !== "win32";
/** How long a process may take to exit after SIGTERM before it is killed. */
const GRACE_MS = 10_000;

/**
 * A set of named processes that live and die together. `start()` them one by one; `done` resolves
 * with the exit code to end with once all have exited (130 after SIGINT, 143 after SIGTERM, else the
 * code of the process that ended first).
 *
 * @example
 * const group = new ProcessGroup();
 * group.start("worker", process.execPath, [wrangler, "dev"]);
 * process.exit(await group.done);
 */
export class ProcessGroup {
  #children = [];
  #stopping = null;
  #resolve;
  done = new Promise((resolve) => (this.#resolve = resolve));

  constructor() {
    for (const [signal, code] of [
      ["SIGINT", 130],
      ["SIGTERM", 143],
    ])
      process.on(signal, () => this.stop(code, `${signal} received`));
  }

  /** Starts a process whose output lines are shown as `[name] …`; ignored once stopping. */
  start(name, command, args, options = {}) {
    if (this.#stopping) return;
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"], detached: OWN_GROUP });
    const tag = `[${name}]`.padEnd(9);
    for (const [from, to] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      createInterface({ input: from, crlfDelay: Infinity }).on("line", (line) => to.write(`${tag}${line}\n`));
    }
    const entry = { name, child, exited: false };
    this.#children.push(entry);
    child.on("error", (err) => {
      process.stderr.write(`${tag}could not start ${command}: ${err.code ?? err.message}\n`);
      this.#exited(entry, 1);
    });
    child.on("exit", (code, signal) => this.#exited(entry, code ?? (signal ? 1 : 0)));
  }

  /** Whether the named process is still running. */
  running(name) {
    return this.#children.some((c) => c.name === name && !c.exited);
  }

  /** Stops every process (SIGTERM to its group, SIGKILL after a grace period); the first reason wins. */
  stop(code, reason) {
    if (this.#stopping) return;
    this.#stopping = { code };
    const alive = this.#children.filter((c) => !c.exited);
    if (alive.length > 0) console.log(`${reason}: stopping ${alive.map((c) => c.name).join(" and ")}…`);
    for (const c of alive) signal(c.child, "SIGTERM");
    setTimeout(() => {
      for (const c of this.#children) if (!c.exited) signal(c.child, "SIGKILL");
    }, GRACE_MS).unref();
    this.#settle();
  }

  #exited(entry, code) {
    if (entry.exited) return;
    entry.exited = true;
    if (!this.#stopping) this.stop(code, `${entry.name} exited (${code})`);
    this.#settle();
  }

  #settle() {
    if (this.#stopping && this.#children.every((c) => c.exited)) this.#resolve(this.#stopping.code);
  }
}

function signal(child, name) {
  try {
    if (OWN_GROUP) process.kill(-child.pid, name);
    else child.kill(name);
  } catch {
    // already gone
  }
}
