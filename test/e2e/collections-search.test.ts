import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_PAIRS, renderShapeSample, type ShapeSample } from "../../shapes-world/index.ts";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { modelPresent } from "../support/gpu-service.ts";
import { TEST_RENDER_SEED } from "../support/shapes.ts";

const RENDERS = 224;

/**
 * Search quality through the whole product: fresh shapes-world renders upserted as images (edge → GPU tier →
 * Postgres through Hyperdrive) with their colour, shape and count as metadata, then searched by text. And the HNSW
 * index's recall@10 against an exact scan, on the same rows.
 */
describe.skipIf(!modelPresent())("end to end: searching a collection of images by text", () => {
  let stack: EdgeStack;
  let samples: ShapeSample[];
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await fetch(`${stack.edgeUrl}${path}`, {
      method: path.endsWith("/shapes") ? "PUT" : "POST",
      headers: { "content-type": "application/json", ...stack.apiHeaders },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBeLessThan(300);
    return (await response.json()) as T;
  };

  beforeAll(async () => {
    stack = await startEdgeStack({}, { postgres: true });
    samples = await Promise.all(
      Array.from({ length: RENDERS }, (_, i) => renderShapeSample(TEST_RENDER_SEED + 7, i, { pairs: "all" })),
    );
    await post("/v1/collections/shapes", {});
    for (let start = 0; start < samples.length; start += 16) {
      const batch = samples.slice(start, start + 16);
      const answer = await post<{ results: { status?: string }[] }>("/v1/collections/shapes/items", {
        items: batch.map((s, i) => ({
          id: `render-${start + i}`,
          image: { base64: Buffer.from(s.bytes).toString("base64") },
          metadata: { colour: s.colour, shape: s.shape, count: s.count },
        })),
      });
      expect(answer.results.every((r) => r.status === "upserted")).toBe(true);
    }
  }, 600_000);
  afterAll(() => stack?.stop());

  it(`finds each pair present among ${RENDERS} renders in the top 5 for "a photo of a {colour} {shape}" (≥ 90% of pairs)`, async () => {
    const present = ALL_PAIRS.filter((p) =>
      samples.some((s) => s.colour === p.colour && s.shape === p.shape),
    );
    let found = 0;
    for (const pair of present) {
      const { matches } = await post<{ matches: { metadata: { colour: string; shape: string } }[] }>(
        "/v1/collections/shapes/query",
        { text: `a photo of a ${pair.colour} ${pair.shape}`, top_k: 5 },
      );
      found += Number(
        matches.some((m) => m.metadata.colour === pair.colour && m.metadata.shape === pair.shape),
      );
    }
    console.log(`collections: ${found} of ${present.length} pairs found in the top 5`);
    expect(found / present.length).toBeGreaterThanOrEqual(0.9);
  });

  it("returns k matches under a filter whenever k pass it, and only those", async () => {
    const { matches } = await post<{ matches: { metadata: { count: number; colour: string } }[] }>(
      "/v1/collections/shapes/query",
      { text: "a photo of a red circle", top_k: 10, filter: { count: { $gte: 2 }, colour: { $ne: "red" } } },
    );
    const passing = samples.filter((s) => s.count >= 2 && s.colour !== "red").length;
    expect(matches).toHaveLength(Math.min(10, passing));
    expect(matches.every((m) => m.metadata.count >= 2 && m.metadata.colour !== "red")).toBe(true);
  });

  it("has an HNSW recall@10 of at least 0.95 against an exact scan of the same rows", async () => {
    const sql = postgres(stack.postgres?.url as string, { prepare: false, fetch_types: false, max: 1 });
    try {
      const rows = await sql.unsafe("SELECT id, embedding::text AS v FROM collection_items_128 ORDER BY id");
      const queries = rows.slice(0, 100).map((r) => String(r.v));
      let overlap = 0;
      for (const vector of queries) {
        const search = async (exact: boolean) => {
          const found = await sql.begin(async (tx) => {
            await tx.unsafe("SET LOCAL hnsw.iterative_scan = relaxed_order");
            // For a few hundred rows the planner would rightly scan them all; the test is about the index.
            if (!exact) await tx.unsafe("SET LOCAL enable_sort = off");
            return tx.unsafe(
              `WITH n AS MATERIALIZED (SELECT id, embedding <=> $1::vector AS d FROM collection_items_128
                 ORDER BY ${exact ? "(embedding <=> $1::vector) + 0" : "embedding <=> $1::vector"} LIMIT 10)
               SELECT id FROM n ORDER BY d`,
              [vector],
            );
          });
          return new Set(found.map((r) => String(r.id)));
        };
        const [approximate, exact] = [await search(false), await search(true)];
        overlap += [...exact].filter((id) => approximate.has(id)).length;
      }
      const recall = overlap / (queries.length * 10);
      console.log(
        `collections: HNSW recall@10 ${recall.toFixed(3)} over ${queries.length} queries, ${rows.length} rows`,
      );
      expect(recall).toBeGreaterThanOrEqual(0.95);
    } finally {
      await sql.end();
    }
  });
});
