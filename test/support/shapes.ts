import { ALL_PAIRS, renderShapeSample } from "../../shapes-world/index.ts";

export interface TestShape {
  colour: string;
  shape: string;
  label: string;
  mime: string;
  base64: string;
}

/** A seed no training run uses: test renders are new images of the same world. */
export const TEST_RENDER_SEED = 0x7e57_0001;

/** One render per colour–shape pair (the four held-out pairs included), as base64 for requests. */
export async function renderTestShapes(seed = TEST_RENDER_SEED): Promise<TestShape[]> {
  return Promise.all(
    ALL_PAIRS.map(async (pair, index) => {
      const sample = await renderShapeSample(seed, index, { pairs: "all", pair, shortSide: [256, 400] });
      return {
        colour: sample.colour,
        shape: sample.shape,
        label: `${sample.colour} ${sample.shape}`,
        mime: sample.mime,
        base64: Buffer.from(sample.bytes).toString("base64"),
      };
    }),
  );
}
