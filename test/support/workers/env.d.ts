// Bindings only the Worker tests have (vitest.config.ts passes them to Miniflare).
declare namespace Cloudflare {
  interface Env {
    /** The D1 migrations in migrations/, read by readD1Migrations and applied by setup.ts. */
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
  }
}
