// npm run postgres — the local Postgres alone, in the foreground, as `npm start` and `npm run edge` run it (they
// start this file as a child): PGlite with pgvector, data in $LOCAL_STACK_DIR/state/postgres (.wrangler/state/postgres),
// migrations/postgres/ applied, then served on 127.0.0.1:$POSTGRES_PORT (5433). Connect with any Postgres client, e.g.
// `psql postgres://postgres:postgres@127.0.0.1:5433/postgres`. SIGINT or SIGTERM closes it cleanly (data flushed).
import { ignoreBrokenTerminal } from "./foreground.ts";
import { startLocalPostgres } from "./postgres.ts";
import { readLocalStackConfig, stackPaths } from "./services.ts";

const log = (line: string) => console.log(line);
const parsed = readLocalStackConfig(process.env);
if (!parsed.ok) {
  console.error(parsed.message);
  process.exit(2);
}
const { config } = parsed;
ignoreBrokenTerminal();
const dataDir = stackPaths(config).postgresDir;
const starting = startLocalPostgres({ dataDir, port: config.postgresPort, log });

// A stop during start waits for the start: PGlite must not be left half-initialised in its data directory.
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, function stopPostgres() {
    if (stopping) return;
    stopping = true;
    void starting
      .then((postgres) => postgres.stop())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  });
}

try {
  const postgres = await starting;
  log(`listening on ${postgres.url} (PGlite with pgvector, data in ${dataDir})`);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
