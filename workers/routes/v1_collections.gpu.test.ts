// Collections end to end inside workerd: the real routes, the real HYPERDRIVE binding on PGlite + pgvector, the real
// GPU tier for texts and images; every answer is also checked against the OpenAPI document (callWorker).
import { describe, expect, it } from "vitest";
import { call, createKey, expectProblem, ok } from "../../test/support/workers/billing.ts";
import { shape } from "../../test/support/workers/worker.ts";

type Json = Record<string, unknown>;

async function newAccountKey() {
  return (await createKey({ plan: "pro" })).key;
}

const unit = (dim: number, axis: number, second = -1, mix = 0) => {
  const v = new Array<number>(dim).fill(0);
  v[axis] = Math.sqrt(1 - mix * mix);
  if (second >= 0) v[second] = mix;
  return v;
};

describe("collections", () => {
  it("creates (201), returns the existing one (200), lists, shows and deletes a collection", async () => {
    const key = await newAccountKey();
    const created = await ok<Json>(
      await call(key, "PUT", "/v1/collections/photos", { description: "mine" }),
      201,
    );
    expect(created).toMatchObject({ object: "collection", name: "photos", description: "mine", count: 0 });
    expect(await ok(await call(key, "PUT", "/v1/collections/photos"))).toMatchObject({ name: "photos" });
    await ok(await call(key, "PUT", "/v1/collections/albums"), 201);
    const page = await ok<{ data: Json[]; next_cursor: string | null }>(
      await call(key, "GET", "/v1/collections?limit=1"),
    );
    expect(page.data.map((c) => c.name)).toEqual(["albums"]);
    const next = await ok<{ data: Json[] }>(
      await call(key, "GET", `/v1/collections?limit=1&cursor=${encodeURIComponent(page.next_cursor ?? "")}`),
    );
    expect(next.data.map((c) => c.name)).toEqual(["photos"]);
    expect(await ok(await call(key, "DELETE", "/v1/collections/photos"))).toMatchObject({ deleted: 1 });
    await expectProblem(await call(key, "GET", "/v1/collections/photos"), 404, "collection_not_found");
    await expectProblem(await call(key, "DELETE", "/v1/collections/photos"), 404, "collection_not_found");
  });

  it("upserts images, texts and vectors, each failing alone, and finds them by text, image, id and vector", async () => {
    const key = await newAccountKey();
    await ok(await call(key, "PUT", "/v1/collections/shapes"), 201);
    const model = await ok<{ data: { embedding_dim: number }[] }>(await call(key, "GET", "/v1/models"));
    const dim = model.data[0]?.embedding_dim as number;
    const red = shape("red circle").base64;
    const blue = shape("blue star").base64;
    const upsert = await ok<{ results: Json[]; usage: Json }>(
      await call(key, "POST", "/v1/collections/shapes/items", {
        items: [
          { id: "red", image: { base64: red }, metadata: { colour: "red", count: 1 } },
          { id: "blue", image: { base64: blue }, metadata: { colour: "blue", count: 3 } },
          { id: "note", text: "three yellow squares", metadata: { kind: "note" } },
          { id: "vec", embedding: unit(dim, 5), metadata: { kind: "vector" } },
          { id: "bad-dim", embedding: [1, 0, 0] },
          { id: "not-unit", embedding: new Array(dim).fill(1) },
          { id: "no-image", image: { base64: btoa("just words") } },
          { id: "two-kinds", text: "x", embedding: unit(dim, 1) },
          { text: "no id" },
        ],
      }),
    );
    expect(upsert.results.map((r) => (r.status as string) ?? (r.error as Json).code)).toEqual([
      "upserted",
      "upserted",
      "upserted",
      "upserted",
      "dimension_mismatch",
      "not_unit_length",
      "not_an_image",
      "invalid_item",
      "invalid_item",
    ]);
    expect(upsert.usage).toMatchObject({ images: 2, item_writes: 4, queries: 0 });
    expect(await ok(await call(key, "GET", "/v1/collections/shapes"))).toMatchObject({ count: 4 });

    const byText = await ok<{ matches: Json[]; usage: Json }>(
      await call(key, "POST", "/v1/collections/shapes/query", { text: "a photo of a red circle", top_k: 2 }),
    );
    expect(byText.matches[0]).toMatchObject({ id: "red", metadata: { colour: "red", count: 1 } });
    expect(byText.usage).toMatchObject({ queries: 1, item_writes: 0 });
    const byImage = await ok<{ matches: Json[] }>(
      await call(key, "POST", "/v1/collections/shapes/query", {
        image: { base64: blue },
        top_k: 1,
        include_metadata: false,
      }),
    );
    expect(byImage.matches).toEqual([{ id: "blue", score: expect.closeTo(1, 3) }]);
    const likeRed = await ok<{ matches: Json[] }>(
      await call(key, "POST", "/v1/collections/shapes/query", { id: "red", top_k: 2 }),
    );
    expect(likeRed.matches[0]?.id).toBe("red");
    const notSelf = await ok<{ matches: Json[] }>(
      await call(key, "POST", "/v1/collections/shapes/query", { id: "red", top_k: 2, exclude_self: true }),
    );
    expect(notSelf.matches.map((m) => m.id)).not.toContain("red");
    const byVector = await ok<{ matches: Json[] }>(
      await call(key, "POST", "/v1/collections/shapes/query", { embedding: unit(dim, 5), top_k: 1 }),
    );
    expect(byVector.matches[0]).toMatchObject({ id: "vec", score: expect.closeTo(1, 4) });
    const filtered = await ok<{ matches: Json[] }>(
      await call(key, "POST", "/v1/collections/shapes/query", {
        text: "a photo of a red circle",
        filter: { count: { $gte: 2 } },
      }),
    );
    expect(filtered.matches.map((m) => m.id)).toEqual(["blue"]);
  });

  it("replaces an item on upsert, reads it back with its vector, lists, and deletes one and many", async () => {
    const key = await newAccountKey();
    await ok(await call(key, "PUT", "/v1/collections/c"), 201);
    const model = await ok<{ data: { embedding_dim: number }[] }>(await call(key, "GET", "/v1/models"));
    const dim = model.data[0]?.embedding_dim as number;
    const items = ["a", "b", "c", "d"].map((id, i) => ({ id, embedding: unit(dim, i), metadata: { n: i } }));
    await ok(await call(key, "POST", "/v1/collections/c/items", { items }));
    await ok(
      await call(key, "POST", "/v1/collections/c/items", {
        items: [{ id: "a", embedding: unit(dim, 9), metadata: { n: 99 } }],
      }),
    );
    const a = await ok<{ metadata: Json; embedding: number[] }>(
      await call(key, "GET", "/v1/collections/c/items/a?include=embedding"),
    );
    expect(a.metadata).toEqual({ n: 99 });
    expect(a.embedding[9]).toBeCloseTo(1, 5);
    expect(await ok(await call(key, "GET", "/v1/collections/c"))).toMatchObject({ count: 4 });
    const page = await ok<{ data: Json[]; next_cursor: string }>(
      await call(key, "GET", "/v1/collections/c/items?limit=3"),
    );
    expect(page.data.map((i) => i.id)).toEqual(["a", "b", "c"]);
    expect(await ok(await call(key, "DELETE", "/v1/collections/c/items/a"))).toMatchObject({ deleted: 1 });
    await expectProblem(await call(key, "DELETE", "/v1/collections/c/items/a"), 404, "item_not_found");
    await expectProblem(await call(key, "GET", "/v1/collections/c/items/a"), 404, "item_not_found");
    expect(
      await ok(await call(key, "POST", "/v1/collections/c/items/delete", { ids: ["b", "c", "zzz"] })),
    ).toMatchObject({ deleted: 2 });
    expect(await ok(await call(key, "GET", "/v1/collections/c"))).toMatchObject({ count: 1 });
  });

  it("keeps accounts apart: another account's key sees 404, never the items", async () => {
    const [mine, theirs] = [await newAccountKey(), await newAccountKey()];
    await ok(await call(mine, "PUT", "/v1/collections/private"), 201);
    await expectProblem(await call(theirs, "GET", "/v1/collections/private"), 404, "collection_not_found");
    await expectProblem(
      await call(theirs, "POST", "/v1/collections/private/query", { text: "anything" }),
      404,
      "collection_not_found",
    );
    await expectProblem(await call(theirs, "DELETE", "/v1/collections/private"), 404, "collection_not_found");
    expect((await ok<{ data: Json[] }>(await call(theirs, "GET", "/v1/collections"))).data).toEqual([]);
  });

  it.each([
    ["a bad name", "PUT", "/v1/collections/has%20space", undefined, 400, "invalid_request"],
    [
      "an unknown collection",
      "POST",
      "/v1/collections/nope/query",
      { text: "x" },
      404,
      "collection_not_found",
    ],
    ["two query kinds", "POST", "/v1/collections/q/query", { text: "x", id: "y" }, 400, "invalid_request"],
    ["no query kind", "POST", "/v1/collections/q/query", { top_k: 3 }, 400, "invalid_request"],
    [
      "a bad filter",
      "POST",
      "/v1/collections/q/query",
      { text: "x", filter: { n: { $gt: "a" } } },
      400,
      "invalid_request",
    ],
    [
      "an unknown operator",
      "POST",
      "/v1/collections/q/query",
      { text: "x", filter: { n: { $regex: "a" } } },
      400,
      "invalid_request",
    ],
    ["top_k over 100", "POST", "/v1/collections/q/query", { text: "x", top_k: 101 }, 400, "invalid_request"],
    [
      "a wrong-dimension query vector",
      "POST",
      "/v1/collections/q/query",
      { embedding: [1, 0] },
      400,
      "invalid_request",
    ],
    [
      "an unknown item for more-like-this",
      "POST",
      "/v1/collections/q/query",
      { id: "ghost" },
      404,
      "item_not_found",
    ],
    ["no items", "POST", "/v1/collections/q/items", { items: [] }, 400, "invalid_request"],
    [
      "65 items",
      "POST",
      "/v1/collections/q/items",
      { items: Array.from({ length: 65 }, (_, i) => ({ id: `${i}`, text: "x" })) },
      400,
      "invalid_request",
    ],
    ["a bad cursor", "GET", "/v1/collections?cursor=@@", undefined, 400, "invalid_request"],
    // "AA" is base64 for one NUL byte: a cursor this API never made, which must not reach SQL.
    ["a cursor holding no name", "GET", "/v1/collections?cursor=AA", undefined, 400, "invalid_request"],
    ["a cursor holding no id", "GET", "/v1/collections/q/items?cursor=AA", undefined, 400, "invalid_request"],
    [
      "a NUL in a description",
      "PUT",
      "/v1/collections/d",
      { description: "a\u0000b" },
      400,
      "invalid_request",
    ],
    [
      "a NUL in a filter's value",
      "POST",
      "/v1/collections/q/query",
      { text: "x", filter: { a: { $in: ["x\u0000"] } } },
      400,
      "invalid_request",
    ],
    ["a 65-character name", "PUT", `/v1/collections/${"x".repeat(65)}`, undefined, 400, "invalid_request"],
    [
      "upserting to an unknown collection",
      "POST",
      "/v1/collections/nope/items",
      { items: [{ id: "a", text: "x" }] },
      404,
      "collection_not_found",
    ],
    [
      "exclude_self without id",
      "POST",
      "/v1/collections/q/query",
      { text: "x", exclude_self: true },
      400,
      "invalid_request",
    ],
    [
      "min_score out of range",
      "POST",
      "/v1/collections/q/query",
      { text: "x", min_score: 2 },
      400,
      "invalid_request",
    ],
    [
      "a filter on __proto__",
      "POST",
      "/v1/collections/q/query",
      { text: "x", filter: JSON.parse('{"__proto__": {"$eq": 1}}') },
      400,
      "invalid_request",
    ],
    [
      "17 images",
      "POST",
      "/v1/collections/q/items",
      {
        items: Array.from({ length: 17 }, (_, i) => ({
          id: `${i}`,
          image: { url: "https://example.com/a.jpg" },
        })),
      },
      400,
      "invalid_request",
    ],
  ])("refuses %s with its documented problem", async (_name, method, path, body, status, code) => {
    const key = await newAccountKey();
    await ok(await call(key, "PUT", "/v1/collections/q"), 201);
    await expectProblem(await call(key, method, path, body), status, code);
  });

  it("refuses bad ids and metadata on the item alone", async () => {
    const key = await newAccountKey();
    await ok(await call(key, "PUT", "/v1/collections/m"), 201);
    const result = await ok<{ results: Json[] }>(
      await call(key, "POST", "/v1/collections/m/items", {
        items: [
          { id: "x".repeat(129), text: "x" },
          { id: "tab\there", text: "x" },
          { id: "nested", text: "x", metadata: { a: { b: 1 } } },
          { id: "dollar", text: "x", metadata: { $a: 1 } },
          { id: "lone", text: "x", metadata: { a: "\ud800" } },
          { id: "nul", text: "x", metadata: { a: "x\u0000" } },
          { id: "ok", text: "x", metadata: { a: 1 } },
          { id: "ok", text: "y", metadata: { a: 2 } },
        ],
      }),
    );
    expect(result.results.map((r) => (r.error as Json | undefined)?.code ?? r.status)).toEqual([
      "invalid_item",
      "invalid_item",
      "invalid_item",
      "invalid_item",
      "invalid_item",
      "invalid_item",
      "upserted",
      "invalid_item",
    ]);
    expect(result.results[7]).toMatchObject({ error: { message: expect.stringContaining("/items/6") } });
    expect(result).toMatchObject({ usage: { item_writes: 1, texts_computed: 1 } });
    const stored = await ok<Json>(await call(key, "GET", "/v1/collections/m/items/ok"));
    expect(stored.metadata).toEqual({ a: 1 });
  });

  it("pages through ids of 128 four-byte characters with the cursors it gives", async () => {
    const key = await newAccountKey();
    await ok(await call(key, "PUT", "/v1/collections/long"), 201);
    const ids = ["😀", "😁", "😂"].map((ch) => ch.repeat(128));
    const model = await ok<{ data: { embedding_dim: number }[] }>(await call(key, "GET", "/v1/models"));
    const dim = model.data[0]?.embedding_dim as number;
    await ok(
      await call(key, "POST", "/v1/collections/long/items", {
        items: ids.map((id, i) => ({ id, embedding: unit(dim, i) })),
      }),
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=1${cursor ? `&cursor=${cursor}` : ""}`;
      const page: { data: Json[]; next_cursor: string | null } = await ok(
        await call(key, "GET", `/v1/collections/long/items${query}`),
      );
      seen.push(...page.data.map((item) => item.id as string));
      cursor = page.next_cursor;
      if (cursor) expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    } while (cursor && seen.length < 10);
    expect(seen).toEqual([...ids].sort());
  });

  it("refuses oversized metadata on the item alone", async () => {
    const key = await newAccountKey();
    await ok(await call(key, "PUT", "/v1/collections/m"), 201);
    const result = await ok<{ results: Json[] }>(
      await call(key, "POST", "/v1/collections/m/items", {
        items: [
          {
            id: "big",
            text: "x",
            metadata: { a: "y".repeat(1000), b: "z".repeat(1000), c: "w".repeat(100) },
          },
        ],
      }),
    );
    expect(result.results[0]).toMatchObject({ id: "big", error: { code: "invalid_item" } });
  });
});
