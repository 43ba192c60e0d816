// The Postgres schema's migration runner: applies migrations/postgres/*.sql in name order, each file in its own
// transaction together with its row in schema_migrations, so a file is applied completely or not at all, and once.
// Used by the local database (tools/local-stack/postgres.ts, on PGlite) and by `npm run db:migrate` (production,
// postgres.js); both reach the database through the small MigrationDatabase interface below.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import type { Sql } from "postgres";

export const POSTGRES_MIGRATIONS_DIR = "migrations/postgres";

/** One migration file: `0001_collections.sql` and its text. */
export interface Migration {
  name: string;
  sql: string;
  /** sha256 of the text: an applied file that changed since is refused, not silently skipped. */
  checksum: string;
}

/** What a migration runs against, inside one transaction. */
export interface MigrationSession {
  /** One statement with $1… parameters. */
  query<Row extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<Row[]>;
  /** Several statements, no parameters (a migration file). */
  exec(sql: string): Promise<void>;
}

export interface MigrationDatabase {
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it rejects. */
  transaction<T>(work: (session: MigrationSession) => Promise<T>): Promise<T>;
}

export type MigrationResult =
  | { ok: true; applied: string[]; alreadyApplied: string[] }
  | { ok: false; applied: string[]; failed: string; message: string };

const MIGRATION_NAME = /^\d{4}_[a-z0-9_]+\.sql$/;

/**
 * The migration files of a folder, in the order they apply. Files that are not `NNNN_name.sql` are an error, so a
 * typo cannot leave a migration unapplied.
 *
 * @example readMigrations("migrations/postgres").map((m) => m.name) // ["0001_collections.sql"]
 */
export function readMigrations(dir = POSTGRES_MIGRATIONS_DIR): Migration[] {
  const names = readdirSync(dir)
    .filter((name) => name.endsWith(".sql"))
    .sort();
  const misnamed = names.filter((name) => !MIGRATION_NAME.test(name));
  if (misnamed.length > 0)
    throw new Error(`${dir}: migration files must be named NNNN_name.sql, not ${misnamed.join(", ")}`);
  return names.map((name) => {
    const sql = readFileSync(join(dir, name), "utf8");
    return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
  });
}

/**
 * The key of this runner's transaction-scoped advisory lock: two runners at once (two deploys, two test processes on
 * one database) take turns instead of applying a file twice.
 */
const MIGRATION_LOCK_KEY = 7_011_000_011;

/**
 * Applies the migrations not yet recorded in schema_migrations, in order, each in its own transaction; stops at the
 * first that fails (its transaction rolled back, the ones before it kept). Running it again is a no-op.
 *
 * @example
 * const result = await applyMigrations(pgliteDatabase(db), readMigrations());
 * if (!result.ok) console.error(`${result.failed}: ${result.message}`);
 */
export async function applyMigrations(
  db: MigrationDatabase,
  migrations: readonly Migration[],
): Promise<MigrationResult> {
  const applied: string[] = [];
  const alreadyApplied: string[] = [];
  for (const migration of migrations) {
    try {
      const outcome = await db.transaction(async function applyMigration(session) {
        await session.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
        await session.exec(
          `CREATE TABLE IF NOT EXISTS schema_migrations (
             name text PRIMARY KEY,
             checksum text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
           )`,
        );
        const [recorded] = await session.query<{ checksum: string }>(
          "SELECT checksum FROM schema_migrations WHERE name = $1",
          [migration.name],
        );
        if (recorded) {
          if (recorded.checksum !== migration.checksum)
            throw new MigrationChanged(
              `${migration.name} was applied with checksum ${recorded.checksum}, but the file now has ` +
                `${migration.checksum}: applied migrations must not change; add a new one instead`,
            );
          return "already-applied";
        }
        await session.exec(migration.sql);
        await session.query("INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", [
          migration.name,
          migration.checksum,
        ]);
        return "applied";
      });
      (outcome === "applied" ? applied : alreadyApplied).push(migration.name);
    } catch (error) {
      return { ok: false, applied, failed: migration.name, message: (error as Error).message };
    }
  }
  return { ok: true, applied, alreadyApplied };
}

class MigrationChanged extends Error {
  override name = "MigrationChanged";
}

/**
 * A PGlite database as a migration target (the local stack and the tests).
 *
 * @example await applyMigrations(pgliteDatabase(await PGlite.create({ extensions: { vector } })), readMigrations())
 */
export function pgliteDatabase(db: PGlite): MigrationDatabase {
  return {
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: async (text, params) => (await tx.query(text, params)).rows as never,
          exec: async (sql) => {
            await tx.exec(sql);
          },
        }),
      ),
  };
}

/**
 * A postgres.js client as a migration target (`npm run db:migrate` against production). `unsafe` without
 * parameters uses the simple query protocol, which runs a file of several statements.
 *
 * @example await applyMigrations(postgresDatabase(postgres(url, { max: 1 })), readMigrations())
 */
export function postgresDatabase(sql: Sql): MigrationDatabase {
  return {
    transaction: async (work) =>
      (await sql.begin((tx) =>
        work({
          query: async (text, params) => (await tx.unsafe(text, params as never[])) as never,
          exec: async (text) => {
            await tx.unsafe(text);
          },
        }),
      )) as never,
  };
}
