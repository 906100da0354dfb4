// The Stripe CLI as the scripts run it: which binary, the `stripe listen` secret, the forwarding flags.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { stripeApiBaseOrExit } from "./api-base.mjs";
import { ensureDevVars } from "./dev-vars.mjs";
import { takePortFlag, takeThinFlag } from "./local-dev.mjs";

/** The event types the built-in handlers use: the one list `stripe listen` forwards and the endpoint enables. */
export const EVENTS = JSON.parse(readFileSync(new URL("../stripe-listen-events.json", import.meta.url), "utf8"));
/** Their thin twins (`v1.` + type), which `stripe listen --thin-events` forwards with `--thin`. */
export const THIN_EVENTS = JSON.parse(readFileSync(new URL("../stripe-listen-thin-events.json", import.meta.url), "utf8"));

const require = createRequire(import.meta.url);

/**
 * Which Stripe CLI to run. By default the binary npm installed with @stripe/cli (pinned in
 * package.json, so everyone runs the version the tests ran); STRIPE_CLI overrides it with a path, or
 * `STRIPE_CLI=stripe` for the one on PATH. Returns { command, label }, or null when neither exists.
 */
export function resolveStripeCli() {
  const chosen = process.env.STRIPE_CLI?.trim();
  if (chosen) return { command: chosen, label: `the Stripe CLI from STRIPE_CLI (${chosen})` };
  try {
    const { version } = require("@stripe/cli/package.json");
    const platform = require("@stripe/cli/platforms.json")[`${process.platform}-${process.arch}`];
    const bin = platform && join(dirname(require.resolve(`${platform.pkg}/package.json`)), "bin", platform.bin);
    if (bin && existsSync(bin))
      return {
        command: bin,
        label:
          `the Stripe CLI ${version} from node_modules (@stripe/cli, pinned in package.json; ` +
          "STRIPE_CLI=stripe uses the one on your PATH)",
      };
  } catch {
    // not installed, or no build for this platform
  }
  return null;
}

/** resolveStripeCli(), or a message on how to get one and exit 1. */
export function stripeCliOrExit() {
  const cli = resolveStripeCli();
  if (cli) return cli;
  console.error(`The Stripe CLI binary is not installed: @stripe/cli has no build for ${process.platform}-${process.arch} here,
or npm skipped it (npm install --omit=optional). Run \`npm install\`, or install the CLI yourself
(https://docs.stripe.com/stripe-cli) and run with STRIPE_CLI=stripe to use the one on your PATH.

No Stripe account or no network? Send signed test events offline instead:
  npm run dev                                        (in one terminal)
  npm run send -- checkout.session.completed         (in another)`);
  process.exit(1);
}

/** `--api-base` for the CLI when STRIPE_API_BASE points elsewhere than Stripe's API; the user's own flags come after it and win. */
export function apiBaseFlags(apiBase) {
  return apiBase.isDefault ? [] : ["--api-base", apiBase.origin];
}

/**
 * Runs `stripe listen --print-secret` and returns the signing secret of the CLI's session; when it
 * prints none (not logged in, no network), says why and exits 1, touching nothing.
 */
export function listenSecretOrExit(cli, apiBase, extra) {
  const printed = spawnSync(cli.command, ["listen", "--print-secret", ...apiBaseFlags(apiBase), ...extra], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (printed.error?.code === "ENOENT") {
    console.error(`${cli.label} was not found. Unset STRIPE_CLI to use the one npm installed, or fix the path.`);
    process.exit(1);
  }
  const secret = (printed.stdout ?? "")
    .trim()
    .split(/\s+/)
    .find((w) => w.startsWith("whsec_"));
  if (printed.status !== 0 || !secret) {
    console.error(`\`stripe listen --print-secret\` did not print a signing secret (exit ${printed.status}).`);
    if (printed.stderr?.trim()) console.error(printed.stderr.trim());
    console.error(
      "Usually this means the CLI is not logged in: " +
        "run `npx stripe login` once (or pass --api-key rk_test_…, or set STRIPE_API_KEY), then try again.",
    );
    process.exit(1);
  }
  return secret;
}

/**
 * What `npm run stripe:listen` and `npm run dev:stripe` both start with: `--port` and `--thin` taken
 * from `argv` (the rest is passed on to `stripe listen`), the CLI, STRIPE_API_BASE, the signing
 * secret of the CLI's session, and a .dev.vars to write it into. Exits 1 saying why when one is missing.
 *
 * @example
 * const { port, thin, extra, cli, apiBase, secret } = prepareListen(process.argv.slice(2));
 */
export function prepareListen(argv) {
  const { port, rest: afterPort } = takePortFlag(argv);
  const { thin, rest: extra } = takeThinFlag(afterPort);
  const cli = stripeCliOrExit();
  console.log(`Using ${cli.label}.`);
  const apiBase = stripeApiBaseOrExit();
  const secret = listenSecretOrExit(cli, apiBase, extra);
  if (ensureDevVars()) console.log("Created .dev.vars from .dev.vars.example.");
  return { port, thin, extra, cli, apiBase, secret };
}

/**
 * The arguments of `stripe listen` that forwards the handled event types to the local Worker: snapshot
 * events to /webhooks/stripe, or with `thin` their thin twins to /webhooks/stripe/thin (as an event
 * destination with thin payloads would; the CLI still shows snapshot events then, but forwards none).
 */
export function forwardArgs(port, apiBase, extra, { thin = false } = {}) {
  const forward = thin
    ? ["--forward-thin-to", `http://localhost:${port}/webhooks/stripe/thin`, "--thin-events", THIN_EVENTS.join(",")]
    : ["--forward-to", `http://localhost:${port}/webhooks/stripe`, "--events", EVENTS.join(",")];
  return ["listen", ...forward, ...apiBaseFlags(apiBase), ...extra];
}
