import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALL_PAIRS, renderShapeSample, type ShapeSample } from "../../shapes-world/index.ts";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { modelPresent } from "../support/gpu-service.ts";
import { TEST_RENDER_SEED } from "../support/shapes.ts";

const TRIALS = 12;
const caption = (p: { colour: string; shape: string }) => `a photo of a ${p.colour} ${p.shape}`;

type Ranked = { results: { index: number; id?: string }[] };

/**
 * /v1/rank through the whole product on fresh renders: in each of 12 trials, 8 renders of 8 different colour–shape
 * pairs; each pair's caption ranks its own render first among the 8 (≥ 95% of 96), and each render ranks its own
 * caption first among the 32 pair captions (≥ 95% of 96).
 */
describe.skipIf(!modelPresent())("end to end: ranking fresh renders against captions", () => {
  let stack: EdgeStack;
  let trials: ShapeSample[][];
  const rank = async (body: unknown): Promise<Ranked> => {
    const response = await fetch(`${stack.edgeUrl}/v1/rank`, {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.apiHeaders },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBe(200);
    return (await response.json()) as Ranked;
  };
  const image = (s: ShapeSample) => ({ base64: Buffer.from(s.bytes).toString("base64") });

  beforeAll(async () => {
    stack = await startEdgeStack({});
    trials = [];
    let index = 0;
    for (let t = 0; t < TRIALS; t++) {
      const picked: ShapeSample[] = [];
      while (picked.length < 8) {
        const s = await renderShapeSample(TEST_RENDER_SEED + 31, index++, { pairs: "all" });
        if (!picked.some((p) => p.colour === s.colour && p.shape === s.shape)) picked.push(s);
      }
      trials.push(picked);
    }
  }, 600_000);
  afterAll(() => stack?.stop());

  it("ranks each caption's own render first among 8 (≥ 95%), ids round-tripping", async () => {
    let first = 0;
    for (const renders of trials)
      for (const [i, s] of renders.entries()) {
        const { results } = await rank({
          query: { text: caption(s) },
          candidates: renders.map((r, j) => ({ id: `render-${j}`, image: image(r) })),
        });
        expect(results.every((r) => r.id === `render-${r.index}`)).toBe(true);
        first += Number(results[0]?.index === i);
      }
    console.log(`rank: ${first} of ${TRIALS * 8} captions ranked their own render first among 8`);
    expect(first / (TRIALS * 8)).toBeGreaterThanOrEqual(0.95);
  });

  it("ranks each render's own caption first among the 32 pair captions (≥ 95%), cut at top_k", async () => {
    let first = 0;
    for (const renders of trials)
      for (const s of renders) {
        const { results } = await rank({
          query: { image: image(s) },
          candidates: ALL_PAIRS.map((p) => ({ id: caption(p), text: caption(p) })),
          top_k: 3,
        });
        expect(results).toHaveLength(3);
        first += Number(results[0]?.id === caption(s));
      }
    console.log(`rank: ${first} of ${TRIALS * 8} renders ranked their own caption first among 32`);
    expect(first / (TRIALS * 8)).toBeGreaterThanOrEqual(0.95);
  });
});
