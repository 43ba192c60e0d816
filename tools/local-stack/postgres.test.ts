import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { type LocalPostgres, startLocalPostgres } from "./postgres.ts";

const dataDir = mkdtempSync(join(tmpdir(), "local-postgres-test-"));
const started: LocalPostgres[] = [];
afterAll(async () => {
  for (const db of started.splice(0)) await db.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(options: Parameters<typeof startLocalPostgres>[0]): Promise<LocalPostgres> {
  const db = await startLocalPostgres(options);
  started.push(db);
  return db;
}

async function stop(db: LocalPostgres): Promise<void> {
  started.splice(started.indexOf(db), 1);
  await db.stop();
}

describe("the local Postgres", () => {
  it("serves its migrated schema over TCP, keeps its data across restarts and refuses a port in use", async () => {
    const first = await start({ dataDir });
    expect(first.applied).toEqual(["0001_collections.sql"]);
    expect(first.url).toBe(`postgres://postgres:postgres@127.0.0.1:${first.port}/postgres`);

    // Several clients at once: pglite-socket's default of one connection would refuse the second.
    const clients = [1, 2, 3].map(() => postgres(first.url, { max: 1, prepare: false, fetch_types: false }));
    const [inserted] = await (clients[0] as postgres.Sql).unsafe(
      "INSERT INTO collections (account, name, model, dim) VALUES ('a', 'kept', 'tiny-clip', 128) RETURNING id",
    );
    const counts = await Promise.all(
      clients.map(async (sql) => (await sql.unsafe("SELECT count(*)::int AS n FROM collections"))[0]?.n),
    );
    expect(counts).toEqual([1, 1, 1]);
    await Promise.all(clients.map((sql) => sql.end()));

    // The same directory is the same database; the same port is taken while it runs.
    await expect(startLocalPostgres({ port: first.port })).rejects.toThrow(/is taken/);
    await stop(first);
    const second = await start({ dataDir, port: first.port });
    expect(second.applied).toEqual([]);
    const sql = postgres(second.url, { max: 1, prepare: false, fetch_types: false });
    const rows = await sql.unsafe("SELECT id, name FROM collections");
    expect(rows).toEqual([{ id: inserted?.id, name: "kept" }]);
    await sql.end();
  });
});
