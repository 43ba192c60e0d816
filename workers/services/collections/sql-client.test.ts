// Which database failures the API answers as a retryable 503 (databaseFault), from real failures: a Postgres that is
// not there, and errors the real local Postgres (PGlite) raises.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../errors.ts";
import { databaseFault, openSqlClient } from "./sql-client.ts";

/** What a call failed with, or a failure of the test when it did not fail. */
async function failureOf(call: () => Promise<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error("the call did not fail");
}

describe("databaseFault", () => {
  it("is a 503 with Retry-After for a database nobody answers at", async () => {
    const client = openSqlClient({ connectionString: "postgres://postgres:postgres@127.0.0.1:1/postgres" });
    try {
      const fault = databaseFault(await failureOf(() => client.sql.unsafe("SELECT 1")));
      expect(fault).toBeInstanceOf(ApiError);
      expect(fault?.code).toBe("database_unavailable");
      expect(fault?.options.retryAfterSeconds).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it("is a 503 for what Postgres gives up (a timeout, a deadlock), and nothing for a mistake in our SQL", async () => {
    const client = openSqlClient(env.HYPERDRIVE);
    // PGlite (WASM, no timers) does not enforce statement_timeout, so the server raises those SQLSTATEs itself.
    const raised = (state: string) =>
      failureOf(() =>
        client.sql.unsafe(`DO $$ BEGIN RAISE EXCEPTION 'given up' USING ERRCODE = '${state}'; END $$`),
      );
    try {
      for (const state of ["57014", "40P01", "40001", "08006", "53300"]) {
        const failure = await raised(state);
        expect((failure as { code?: string }).code).toBe(state);
        expect(databaseFault(failure)?.code, state).toBe("database_unavailable");
      }
      const mistake = await failureOf(() => client.sql.unsafe("SELECT * FROM no_such_table"));
      expect((mistake as { code?: string }).code).toBe("42P01");
      expect(databaseFault(mistake)).toBeUndefined();
      expect(databaseFault(new Error("a bug of ours"))).toBeUndefined();
      // The client is still good after both.
      expect((await client.sql.unsafe("SELECT 1 AS one"))[0]?.one).toBe(1);
    } finally {
      await client.close();
    }
  });
});
