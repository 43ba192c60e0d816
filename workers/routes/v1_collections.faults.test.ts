// Collections when their database fails: a clear, retryable 503, nothing billed or held, and full service once it is
// back. The database "down" is a real connection to a port nobody listens on; "back" is the real local Postgres.
import { describe, expect, it } from "vitest";
import { billingEnv, committed, createKey, edge, expectProblem } from "../../test/support/workers/billing.ts";

const DOWN = {
  ...billingEnv,
  HYPERDRIVE: { connectionString: "postgres://postgres:postgres@127.0.0.1:1/postgres" },
} as Env;
const unit = (axis: number) => Array.from({ length: 128 }, (_, i) => (i === axis ? 1 : 0));

function call(key: string, method: string, path: string, body?: unknown, bindings?: Env) {
  return edge(path, {
    key,
    bindings,
    init: {
      method,
      ...(body === undefined
        ? {}
        : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
    },
  });
}

describe("collections with their database down", () => {
  it("answers 503 database_unavailable with Retry-After, bills nothing, holds nothing, and recovers", async () => {
    const { key, id } = await createKey({ plan: "tiny" });
    for (const [method, path, body] of [
      ["GET", "/v1/collections", undefined],
      ["PUT", "/v1/collections/c", undefined],
      ["POST", "/v1/collections/c/query", { embedding: unit(0) }],
    ] as const) {
      const answer = await call(key, method, path, body, DOWN);
      await expectProblem(answer, 503, "database_unavailable");
      expect(Number(answer.headers.get("retry-after")), path).toBeGreaterThan(0);
    }
    // The tiny plan's whole month of item writes: had the failed upsert kept its reservation, this would be refused.
    const items = Array.from({ length: 5 }, (_, i) => ({ id: `i${i}`, embedding: unit(i) }));
    await expectProblem(
      await call(key, "POST", "/v1/collections/c/items", { items }, DOWN),
      503,
      "database_unavailable",
    );
    expect((await committed(id)).records).toHaveLength(0);

    expect((await call(key, "PUT", "/v1/collections/c")).status).toBe(201);
    const upsert = await call(key, "POST", "/v1/collections/c/items", { items });
    expect(upsert.status, await upsert.clone().text()).toBe(200);
    expect((await committed(id)).month).toMatchObject({ item_writes: 5 });
  });
});
