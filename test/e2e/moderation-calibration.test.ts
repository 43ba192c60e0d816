import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COLOURS, renderShapeSample, SHAPES, type ShapeSample } from "../../shapes-world/index.ts";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { modelPresent } from "../support/gpu-service.ts";
import { TEST_RENDER_SEED } from "../support/shapes.ts";

/** Renders to calibrate on, and as many fresh ones to measure on (different seeds: no render is in both). */
const RENDERS = 240;
/** Concepts that cover the category's variety: every shape that can be red, every colour a star can be. */
const CATEGORIES = [
  {
    name: "red",
    concepts: SHAPES.map((shape) => `a photo of a red ${shape}`),
    truth: (s: ShapeSample) => s.colour === "red",
  },
  {
    name: "stars",
    concepts: COLOURS.map((colour) => `a photo of a ${colour} star`),
    truth: (s: ShapeSample) => s.shape === "star",
  },
];

type Calibrated = { precision: number; recall: number; threshold: number; target_met: boolean };

/**
 * Moderation's calibration through the whole product, on the shapes world (it has no unsafe content, so the
 * mechanics are proved on policies over it): a policy "red things" and "stars", calibrated on 240 fresh renders at
 * target precision 0.9, then measured on 240 other fresh renders: precision and recall ≥ 0.9 per category, and the
 * cross-validated figures calibration reported within 0.1 of the measured ones.
 */
describe.skipIf(!modelPresent())("end to end: a moderation policy calibrated on labelled examples", () => {
  let stack: EdgeStack;
  let calibration: Record<string, Calibrated>;
  let measured: Record<string, { precision: number; recall: number }>;
  const post = async <T>(path: string, body: unknown): Promise<T> => {
    const response = await fetch(`${stack.edgeUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...stack.apiHeaders },
      body: JSON.stringify(body),
    });
    expect(response.status, await response.clone().text()).toBeLessThan(300);
    return (await response.json()) as T;
  };
  const image = (s: ShapeSample) => ({ base64: Buffer.from(s.bytes).toString("base64") });
  const batches = <T>(all: T[]) =>
    Array.from({ length: Math.ceil(all.length / 16) }, (_, i) => all.slice(i * 16, i * 16 + 16));

  beforeAll(async () => {
    stack = await startEdgeStack({});
    const render = (seed: number) =>
      Promise.all(Array.from({ length: RENDERS }, (_, i) => renderShapeSample(seed, i, { pairs: "all" })));
    const [train, test] = await Promise.all([render(TEST_RENDER_SEED + 21), render(TEST_RENDER_SEED + 22)]);
    const policy = await post<{ id: string }>("/v1/moderation/policies", {
      name: "shapes",
      categories: CATEGORIES.map(({ name, concepts }) => ({ name, concepts })),
    });
    for (const batch of batches(train))
      await post(`/v1/moderation/policies/${policy.id}/examples`, {
        examples: batch.map((s) => ({
          image: image(s),
          categories: CATEGORIES.filter((c) => c.truth(s)).map((c) => c.name),
        })),
      });
    const calibrated = await post<{ categories: Record<string, Calibrated> }>(
      `/v1/moderation/policies/${policy.id}/calibrate`,
      { target_precision: 0.9 },
    );
    calibration = calibrated.categories;
    const counts = Object.fromEntries(CATEGORIES.map((c) => [c.name, { tp: 0, fp: 0, fn: 0 }]));
    for (const batch of batches(test)) {
      const answer = await post<{ calibrated: boolean; results: { categories: Record<string, boolean> }[] }>(
        "/v1/moderations",
        { input: batch.map((s) => ({ image: image(s) })), policy: policy.id },
      );
      expect(answer.calibrated).toBe(true);
      for (const [i, result] of answer.results.entries())
        for (const category of CATEGORIES) {
          const truth = category.truth(batch[i] as ShapeSample);
          const flagged = result.categories[category.name] === true;
          const count = counts[category.name] as { tp: number; fp: number; fn: number };
          if (flagged && truth) count.tp++;
          else if (flagged) count.fp++;
          else if (truth) count.fn++;
        }
    }
    measured = Object.fromEntries(
      Object.entries(counts).map(([name, c]) => [
        name,
        { precision: c.tp / Math.max(1, c.tp + c.fp), recall: c.tp / Math.max(1, c.tp + c.fn) },
      ]),
    );
    for (const { name } of CATEGORIES)
      console.log(
        `moderation ${name}: threshold ${calibration[name]?.threshold.toFixed(3)}, cross-validated P ${calibration[name]?.precision.toFixed(3)} R ${calibration[name]?.recall.toFixed(3)}; measured on ${RENDERS} fresh renders P ${measured[name]?.precision.toFixed(3)} R ${measured[name]?.recall.toFixed(3)}`,
      );
  }, 900_000);
  afterAll(() => stack?.stop());

  it.each(CATEGORIES.map((c) => c.name))("%s: precision and recall ≥ 0.9 on fresh renders", (name) => {
    expect(measured[name]?.precision).toBeGreaterThanOrEqual(0.9);
    expect(measured[name]?.recall).toBeGreaterThanOrEqual(0.9);
  });

  it.each(CATEGORIES.map((c) => c.name))(
    "%s: the cross-validated figures are within 0.1 of the measured ones",
    (name) => {
      expect(
        Math.abs((calibration[name]?.precision ?? 0) - (measured[name]?.precision ?? 1)),
      ).toBeLessThanOrEqual(0.1);
      expect(Math.abs((calibration[name]?.recall ?? 0) - (measured[name]?.recall ?? 1))).toBeLessThanOrEqual(
        0.1,
      );
    },
  );
});
