import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, type Migration, pgliteDatabase, readMigrations } from "./migrations.ts";

// One initialised PGlite (its first start runs initdb, seconds); every test works on a fresh clone of it.
let base: PGlite;
const opened: PGlite[] = [];
beforeAll(async () => {
  base = await PGlite.create({ extensions: { vector } });
});
afterAll(async () => {
  for (const db of [...opened, base]) await db.close();
});

async function freshDatabase(): Promise<PGlite> {
  const db = (await base.clone()) as PGlite;
  opened.push(db);
  return db;
}

const tables = async (db: PGlite) =>
  (
    await db.query<{ name: string }>(
      "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
  ).rows.map((row) => row.name);

function migration(name: string, sql: string): Migration {
  return { name, sql, checksum: `checksum of ${sql}` };
}

describe("applyMigrations", () => {
  it("applies migrations/postgres once; a second run is a no-op", async () => {
    const db = await freshDatabase();
    const migrations = readMigrations();
    expect(migrations.map((m) => m.name)).toContain("0001_collections.sql");

    const first = await applyMigrations(pgliteDatabase(db), migrations);
    expect(first).toEqual({ ok: true, applied: migrations.map((m) => m.name), alreadyApplied: [] });
    expect(await tables(db)).toEqual([
      "account_storage",
      "collection_items_128",
      "collection_items_512",
      "collection_items_768",
      "collections",
      "schema_migrations",
    ]);

    const second = await applyMigrations(pgliteDatabase(db), migrations);
    expect(second).toEqual({ ok: true, applied: [], alreadyApplied: migrations.map((m) => m.name) });
    const recorded = await db.query("SELECT name FROM schema_migrations");
    expect(recorded.rows).toHaveLength(migrations.length);
  });

  it("rolls a failing migration back whole and keeps the ones before it", async () => {
    const db = await freshDatabase();
    const result = await applyMigrations(pgliteDatabase(db), [
      migration("0001_first.sql", "CREATE TABLE first (id int);"),
      migration(
        "0002_broken.sql",
        "CREATE TABLE second (id int);\nINSERT INTO second VALUES ('not a number');",
      ),
      migration("0003_never.sql", "CREATE TABLE third (id int);"),
    ]);
    expect(result).toMatchObject({ ok: false, applied: ["0001_first.sql"], failed: "0002_broken.sql" });
    expect(result.ok || result.message).toMatch(/invalid input syntax for type integer/);
    // `second` was created inside the failed file's transaction: gone with it. 0003 never ran.
    expect(await tables(db)).toEqual(["first", "schema_migrations"]);
    expect((await db.query("SELECT name FROM schema_migrations")).rows).toEqual([{ name: "0001_first.sql" }]);

    // Fixed, the same set applies from where it stopped.
    const retry = await applyMigrations(pgliteDatabase(db), [
      migration("0001_first.sql", "CREATE TABLE first (id int);"),
      migration("0002_broken.sql", "CREATE TABLE second (id int);"),
    ]);
    expect(retry).toEqual({ ok: true, applied: ["0002_broken.sql"], alreadyApplied: ["0001_first.sql"] });
  });

  it("refuses an applied migration whose file changed since", async () => {
    const db = await freshDatabase();
    await applyMigrations(pgliteDatabase(db), [migration("0001_first.sql", "CREATE TABLE first (id int);")]);
    const changed = await applyMigrations(pgliteDatabase(db), [
      migration("0001_first.sql", "CREATE TABLE first (id bigint);"),
    ]);
    expect(changed).toMatchObject({ ok: false, applied: [], failed: "0001_first.sql" });
    expect(changed.ok || changed.message).toMatch(/must not change/);
  });
});

describe("readMigrations", () => {
  it("orders files by name and refuses misnamed ones", () => {
    const dir = mkdtempSync(join(tmpdir(), "migrations-"));
    try {
      writeFileSync(join(dir, "0002_b.sql"), "SELECT 2;");
      writeFileSync(join(dir, "0001_a.sql"), "SELECT 1;");
      writeFileSync(join(dir, "README.md"), "not a migration");
      expect(readMigrations(dir).map((m) => m.name)).toEqual(["0001_a.sql", "0002_b.sql"]);
      writeFileSync(join(dir, "3_c.sql"), "SELECT 3;");
      expect(() => readMigrations(dir)).toThrow(/NNNN_name\.sql, not 3_c\.sql/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
