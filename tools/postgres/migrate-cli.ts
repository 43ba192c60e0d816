// npm run db:migrate -- --url postgres://USER:PASSWORD@HOST:5432/DB [--dir migrations/postgres]
// Applies the Postgres migrations not yet applied to a database — production's, before deploying an edge that needs
// them (README, Deploy) — each file in its own transaction, recorded in schema_migrations; a second run does nothing.
// The URL may also come from DATABASE_URL. Connect directly to the database, not through Hyperdrive. Exit code 0 when
// the schema is current, 1 with the failing file and Postgres's message otherwise (its transaction rolled back).
import { parseArgs } from "node:util";
import postgres from "postgres";
import { applyMigrations, POSTGRES_MIGRATIONS_DIR, postgresDatabase, readMigrations } from "./migrations.ts";

const USAGE =
  "usage: npm run db:migrate -- --url postgres://USER:PASSWORD@HOST:5432/DB [--dir migrations/postgres]";

const { values } = parseArgs({
  options: { url: { type: "string" }, dir: { type: "string" }, help: { type: "boolean" } },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const url = values.url ?? process.env.DATABASE_URL;
if (!url || !URL.canParse(url)) {
  console.error(url ? `not a URL: --url ${redact(url)}` : USAGE);
  process.exit(2);
}

const migrations = readMigrations(values.dir ?? POSTGRES_MIGRATIONS_DIR);
// One connection, unnamed statements (the same rules as the Worker's client); Postgres's notices ("extension vector
// already exists, skipping") are not news.
const sql = postgres(url, { max: 1, prepare: false, fetch_types: false, onnotice: () => {} });
let exitCode = 0;
try {
  // Connection problems are reported as such, not as a failed migration.
  await sql.unsafe("SELECT 1");
  const result = await applyMigrations(postgresDatabase(sql), migrations);
  if (result.ok) {
    for (const name of result.applied) console.log(`applied ${name}`);
    console.log(
      `${redact(url)}: schema current (${result.applied.length} applied now, ${result.alreadyApplied.length} before)`,
    );
  } else {
    for (const name of result.applied) console.log(`applied ${name}`);
    console.error(`${result.failed} failed, rolled back: ${result.message}`);
    exitCode = 1;
  }
} catch (error) {
  console.error(`cannot migrate ${redact(url)}: ${(error as Error).message}`);
  exitCode = 1;
} finally {
  await sql.end({ timeout: 5 });
}
process.exitCode = exitCode;

/** The URL without its password, for messages. */
function redact(raw: string): string {
  try {
    const parsed = new URL(raw);
    if (parsed.password) parsed.password = "***";
    return parsed.href;
  } catch {
    return "(unparseable URL)";
  }
}
