import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  // The real migrations, applied inside workerd by test/apply-migrations.ts.
  const migrations = await readD1Migrations("./migrations");
  return {
    plugins: [
      cloudflareTest({
        main: "./src/index.ts",
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            // The secret the test helpers sign with; real deployments set it with `wrangler secret put`.
            STRIPE_WEBHOOK_SECRET: "whsec_test_secret_for_vitest",
            // The tests deliver test-mode events (livemode: false), as `npm run dev` does.
            STRIPE_MODE: "test",
            // A developer's .dev.vars is loaded too; tests never reach the real Stripe API.
            STRIPE_SECRET_KEY: "",
            STRIPE_API_BASE: "",
            WEBHOOK_URL: "",
            ALERT_WEBHOOK_URL: "",
          },
        },
      }),
    ],
    test: {
      setupFiles: ["./test/apply-migrations.ts"],
      // Spies (the Stripe API stub on fetch, captured console lines) are restored before every test.
      restoreMocks: true,
      // A hang detector, not a speed check (speed is npm run bench): the longest tests drive hundreds of
      // whole cron runs or thousands of deliveries in workerd and take 3–7 s on 2 cores, over vitest's 5 s
      // default when CI shares the machine.
      testTimeout: 30_000,
      // Worker logs are JSON lines; show them only for failing tests.
      silent: "passed-only" as const,
      // Runs per property in test/reliability; workerd cannot read the host env, so it is passed in.
      // `FC_RUNS=20000 npm test` for a longer search.
      provide: {
        fcRuns: Number(process.env.FC_RUNS ?? 2000),
        // Final rows test/archive-scale.test.ts moves to R2: a million in about a minute on 2 cores.
        archiveScaleRows: Number(process.env.ARCHIVE_SCALE_ROWS ?? 1_000_000),
      },
      // workerd reports a rejecting RPC call to the BillingService entrypoint a second time, as an
      // unhandled rejection of the callee, even when the test awaits and checks the rejection
      // (cloudflare/workers-sdk#14736). Only those are let through: the argument checks' TypeErrors,
      // serialised with `remote: true`; any other unhandled error still fails the run.
      onUnhandledError(error: { message?: string; remote?: boolean }) {
        if (error.remote === true && /^BillingService\.\w+: /.test(error.message ?? "")) return false;
      },
    },
  };
});
