// POST /v1/rank inside workerd with the real GPU tier: both directions, ids, top_k, failures alone, billing. Every
// answer is also checked against the OpenAPI document. The ranking's quality on fresh renders is in test/e2e.
import { describe, expect, it } from "vitest";
import { committed, createKey, edge, expectProblem } from "../../test/support/workers/billing.ts";
import { shape } from "../../test/support/workers/worker.ts";

type Ranked = {
  results: { index: number; id?: string; similarity: number; clip_score: number; probability: number }[];
  failed?: { index: number; id?: string; error: { code: string } }[];
  usage: Record<string, number>;
};

function rank(key: string, body: unknown) {
  return edge("/v1/rank", {
    key,
    init: { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } },
  });
}

async function ok(response: Response): Promise<Ranked> {
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as Ranked;
}

const image = (label: string) => ({ base64: shape(label).base64 });

describe("POST /v1/rank", () => {
  it("ranks images against a text, best first, with CLIPScore and probabilities that sum to 1", async () => {
    const { key, id } = await createKey();
    const answer = await ok(
      await rank(key, {
        query: { text: "a photo of a red circle" },
        candidates: [
          { id: "star", image: image("blue star") },
          { id: "circle", image: image("red circle") },
          { id: "square", image: image("yellow square") },
        ],
      }),
    );
    expect(answer.results.map((r) => r.id)).toEqual(expect.arrayContaining(["star", "circle", "square"]));
    expect(answer.results[0]).toMatchObject({ id: "circle", index: 1 });
    for (const [i, r] of answer.results.entries()) {
      expect(r.clip_score).toBeCloseTo(Math.max(100 * r.similarity, 0), 9);
      if (i > 0) expect(r.similarity).toBeLessThanOrEqual(answer.results[i - 1]?.similarity as number);
    }
    expect(answer.results.reduce((t, r) => t + r.probability, 0)).toBeCloseTo(1, 9);
    expect(answer.usage).toMatchObject({ images: 3 });
    expect((await committed(id)).records.find((r) => r.route === "/v1/rank")).toMatchObject({ images: 3 });
  });

  it("ranks texts against an image, cuts at top_k, and keeps candidates without ids by index", async () => {
    const { key } = await createKey();
    const answer = await ok(
      await rank(key, {
        query: { image: image("blue star") },
        candidates: [{ text: "a red circle" }, { id: "s", text: "a blue star" }, { text: "a yellow square" }],
        top_k: 2,
      }),
    );
    expect(answer.results).toHaveLength(2);
    expect(answer.results[0]).toEqual(expect.objectContaining({ index: 1, id: "s" }));
    expect(answer.results[1]).not.toHaveProperty("id");
    expect(answer.usage).toMatchObject({ images: 1 });
    expect((answer.usage.texts_computed ?? 0) + (answer.usage.texts_cached ?? 0)).toBe(3);
  });

  it("fails a bad candidate alone, unbilled, and ranks the rest", async () => {
    const { key } = await createKey();
    const answer = await ok(
      await rank(key, {
        query: { text: "a star" },
        candidates: [
          { id: "bad", image: { base64: "bm90IGFuIGltYWdl" } },
          { id: "good", image: image("blue star") },
        ],
      }),
    );
    expect(answer.results.map((r) => r.id)).toEqual(["good"]);
    expect(answer.results[0]?.probability).toBeCloseTo(1, 12);
    expect(answer.failed).toEqual([
      { index: 0, id: "bad", error: expect.objectContaining({ code: "not_an_image" }) },
    ]);
    expect(answer.usage).toMatchObject({ images: 1 });
  });

  it.each([
    ["no candidates", { query: { text: "x" }, candidates: [] }, 400, "invalid_request"],
    [
      "65 candidates",
      { query: { text: "x" }, candidates: Array.from({ length: 65 }, () => ({ text: "y" })) },
      400,
      "invalid_request",
    ],
    [
      "a query with both",
      { query: { text: "x", image: { url: "https://example.com/a.jpg" } }, candidates: [{ text: "y" }] },
      400,
      "invalid_request",
    ],
    ["a candidate with neither", { query: { text: "x" }, candidates: [{ id: "a" }] }, 400, "invalid_request"],
    [
      "17 images with the query",
      {
        query: { image: { url: "https://example.com/q.jpg" } },
        candidates: Array.from({ length: 16 }, () => ({ image: { url: "https://example.com/a.jpg" } })),
      },
      400,
      "invalid_request",
    ],
    ["top_k of 0", { query: { text: "x" }, candidates: [{ text: "y" }], top_k: 0 }, 400, "invalid_request"],
    [
      "an unknown field",
      { query: { text: "x" }, candidates: [{ text: "y" }], extra: 1 },
      400,
      "invalid_request",
    ],
    [
      "a query image that is not one",
      { query: { image: { base64: "bm90IGFuIGltYWdl" } }, candidates: [{ text: "y" }] },
      400,
      "not_an_image",
    ],
  ])("refuses %s with its documented problem, unbilled", async (_name, body, status, code) => {
    const { key, id } = await createKey();
    await expectProblem(await rank(key, body), status, code);
    expect((await committed(id)).records).toHaveLength(0);
  });

  it("answers 422 all_inputs_failed when every candidate fails", async () => {
    const { key } = await createKey();
    await expectProblem(
      await rank(key, { query: { text: "x" }, candidates: [{ image: { base64: "bm90IGFuIGltYWdl" } }] }),
      422,
      "all_inputs_failed",
    );
  });
});
