// Vitest global setup for the Worker tests: one local Postgres (PGlite with pgvector, in memory, migrated) on a free
// loopback port for the whole run, its URL handed to the Worker's HYPERDRIVE binding through `inject("postgresUrl")`
// (vitest.config.ts).
import type { TestProject } from "vitest/node";
import { startLocalPostgres } from "../../tools/local-stack/postgres.ts";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const postgres = await startLocalPostgres();
  project.provide("postgresUrl", postgres.url);
  return () => postgres.stop();
}
