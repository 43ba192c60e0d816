// POST /v1/explain inside workerd with the real GPU tier (occlusion and heatmap routes): maps, boxes in the photo's
// pixels, the PNG, every bad input, billing. Every JSON answer is also checked against the OpenAPI document.
import { describe, expect, it } from "vitest";
import { committed, createKey, edge, expectProblem } from "../../test/support/workers/billing.ts";
import { shape } from "../../test/support/workers/worker.ts";

type Box = { x: number; y: number; width: number; height: number };
type Explained = {
  image: { width: number; height: number };
  crop: Box;
  results: {
    label: string;
    score: number;
    similarity: number;
    grid: { rows: number; cols: number; scores: number[][] };
    peak: Box;
  }[];
  method: { name: string; occluder: string; window: number; passes: number };
  usage: Record<string, number>;
};

function explain(key: string, body: unknown, query = "", headers: Record<string, string> = {}) {
  return edge(`/v1/explain${query}`, {
    key,
    init: {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    },
  });
}

const image = (label: string) => ({ base64: shape(label).base64 });
const inside = (box: Box, outer: Box) =>
  box.x >= outer.x - 1e-6 &&
  box.y >= outer.y - 1e-6 &&
  box.x + box.width <= outer.x + outer.width + 1e-6 &&
  box.y + box.height <= outer.y + outer.height + 1e-6;

describe("POST /v1/explain", () => {
  it("maps each label over the crop, peaks inside it, and bills grid² + 1 image passes", async () => {
    const { key, id } = await createKey({ plan: "wide" });
    const response = await explain(key, {
      image: image("red circle"),
      labels: ["red circle", "blue star"],
      grid: 4,
    });
    expect(response.status, await response.clone().text()).toBe(200);
    const answer = (await response.json()) as Explained;
    expect(answer.method).toEqual({ name: "occlusion", occluder: "normalized-mean", window: 2, passes: 17 });
    expect(answer.usage).toMatchObject({ images: 17 });
    expect(inside(answer.crop, { x: 0, y: 0, ...answer.image })).toBe(true);
    expect(answer.results.map((r) => r.label)).toEqual(["red circle", "blue star"]);
    expect(answer.results[0]?.score).toBeGreaterThan(answer.results[1]?.score as number);
    for (const result of answer.results) {
      expect(result.grid.scores).toHaveLength(4);
      const flat = result.grid.scores.flat();
      expect(flat).toHaveLength(16);
      expect(flat.every((v) => v >= 0 && v <= 1)).toBe(true);
      if (flat.some((v) => v > 0)) expect(Math.max(...flat)).toBeCloseTo(1, 12);
      expect(inside(result.peak, answer.crop)).toBe(true);
      expect(result.peak.width).toBeCloseTo(answer.crop.width / 4, 6);
    }
    expect((await committed(id)).records.find((r) => r.route === "/v1/explain")).toMatchObject({
      images: 17,
    });
  });

  it("answers the first label's heatmap as a PNG of the crop (?format=png or Accept: image/png)", async () => {
    const { key } = await createKey({ plan: "wide" });
    const body = { image: image("blue star"), labels: ["blue star"], grid: 5 };
    const json = (await (await explain(key, body)).json()) as Explained;
    for (const response of [
      await explain(key, body, "?format=png"),
      await explain(key, body, "", { accept: "image/png" }),
    ]) {
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("image/png");
      const png = new Uint8Array(await response.arrayBuffer());
      expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
      const view = new DataView(png.buffer, png.byteOffset);
      const [width, height] = [view.getUint32(16), view.getUint32(20)];
      const scale = Math.min(1, 512 / Math.max(json.crop.width, json.crop.height));
      expect(Math.abs(width - json.crop.width * scale)).toBeLessThanOrEqual(1);
      expect(Math.abs(height - json.crop.height * scale)).toBeLessThanOrEqual(1);
    }
  });

  it.each([
    ["a grid of 3", { grid: 3 }, 400, "invalid_request"],
    ["a grid of 15", { grid: 15 }, 400, "invalid_request"],
    ["no labels", { labels: [] }, 400, "invalid_request"],
    ["9 labels", { labels: Array.from({ length: 9 }, (_, i) => `l${i}`) }, 400, "invalid_request"],
    ["a template without {}", { templates: ["a photo"] }, 400, "invalid_request"],
    ["an image that is not one", { image: { base64: "bm90IGFuIGltYWdl" } }, 400, "not_an_image"],
    ["an unknown field", { extra: true }, 400, "invalid_request"],
  ])("refuses %s with its documented problem, unbilled", async (_name, change, status, code) => {
    const { key, id } = await createKey({ plan: "wide" });
    const body = { image: image("red circle"), labels: ["red circle"], grid: 4, ...change };
    await expectProblem(await explain(key, body), status, code);
    expect((await committed(id)).records).toHaveLength(0);
  });

  it("refuses a grid finer than the plan's explain_max_grid, and an unknown format", async () => {
    const { key } = await createKey({ plan: "tiny" }); // explain_max_grid 4
    const body = { image: image("red circle"), labels: ["red circle"], grid: 5 };
    const problem = await expectProblem(await explain(key, body), 400, "invalid_request");
    expect(problem.detail).toContain("up to 4");
    await expectProblem(await explain(key, { ...body, grid: 4 }, "?format=gif"), 400, "invalid_request");
  });
});
