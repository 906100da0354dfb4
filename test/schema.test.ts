import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

// What the migrations must leave behind for the write budget to hold (test/write-budget.test.ts
// measures the cost; this names the cause). drizzle-kit cannot express WITHOUT ROWID, so a future
// generated migration that rebuilds one of these tables could silently drop it.

const master = (type: string) =>
  env.DB.prepare(
    "SELECT name, sql FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
  )
    .bind(type)
    .all<{ name: string; sql: string | null }>();

describe("the schema after every migration", () => {
  it.each([
    "customers",
    "subscriptions",
    "checkout_sessions",
    "invoices",
    "payment_intents",
    "charges",
    "fulfilments",
    "job_state",
    "ledger_hours",
    "console_sessions",
    "admin_lockouts",
  ])("keeps %s WITHOUT ROWID: a new row is one write, not two", async (table) => {
    const { results } = await master("table");
    expect(results.find((t) => t.name === table)?.sql).toMatch(/\) WITHOUT ROWID$/);
  });

  it("gives the ledger only the indexes its queries need, four of them partial", async () => {
    const { results } = await master("index");
    const ledger = results.filter((i) => i.sql?.includes("ON `stripe_events`")).map((i) => i.sql);
    expect(ledger.sort()).toEqual([
      "CREATE INDEX `stripe_events_attention_idx` ON `stripe_events` (`status`) WHERE status IN ('failed', 'dead')",
      "CREATE INDEX `stripe_events_object_idx` ON `stripe_events` (`object_id`) WHERE object_id IS NOT NULL",
      "CREATE INDEX `stripe_events_redrive_idx` ON `stripe_events` (`redrive_at`) WHERE redrive_at IS NOT NULL",
      "CREATE INDEX `stripe_events_twin_idx` ON `stripe_events` (`twin_of`) WHERE twin_of IS NOT NULL",
      "CREATE UNIQUE INDEX `stripe_events_id_unique` ON `stripe_events` (`id`)",
    ]);
  });
});
