import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ALL_PAIRS,
  mixSeed,
  renderScene,
  type Scene,
  sampleRng,
  sampleScene,
} from "../../shapes-world/index.ts";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { modelPresent } from "../support/gpu-service.ts";
import { TEST_RENDER_SEED } from "../support/shapes.ts";

const RENDERS = 120;
type Box = { x: number; y: number; width: number; height: number };
type Explained = {
  image: { width: number; height: number };
  crop: Box;
  results: { label: string; peak: Box }[];
};

/** Landscape, portrait and square photos, a third of them stored rotated with EXIF orientation 6 or 8. */
const LAYOUTS = [
  { width: 480, height: 320, orientation: 1 },
  { width: 320, height: 480, orientation: 1 },
  { width: 400, height: 400, orientation: 1 },
  { width: 480, height: 360, orientation: 6 },
  { width: 300, height: 420, orientation: 8 },
  { width: 420, height: 300, orientation: 1 },
] as const;

interface Render {
  bytes: Uint8Array;
  box: Box;
  label: string;
  wrong: string;
}

/**
 * One object placed off-centre inside the centre crop, its bounding box known (in the upright photo's pixels); the
 * photo is stored as the layout says — for EXIF orientations, rotated so that a viewer turns it upright again.
 */
async function render(i: number): Promise<Render> {
  const layout = LAYOUTS[i % LAYOUTS.length] as (typeof LAYOUTS)[number];
  const rng = sampleRng(TEST_RENDER_SEED + 41, i);
  const scene: Scene = sampleScene(rng, {
    pairs: "all",
    count: 1,
    width: layout.width,
    height: layout.height,
    format: "png",
  });
  const side = Math.min(scene.width, scene.height);
  const [ox, oy] = [(scene.width - side) / 2, (scene.height - side) / 2];
  const object = scene.objects[0] as Scene["objects"][number];
  const radius = Math.min(object.radius, 0.16 * side);
  // A corner region of the crop, so the object is never at its centre.
  const angle = (Math.PI / 2) * (i % 4) + Math.PI / 4;
  const reach = side / 2 - radius * 1.1;
  const distance = reach * (0.55 + 0.4 * ((mixSeed(i, 7) >>> 0) / 4294967296));
  const cx = ox + side / 2 + Math.cos(angle) * distance;
  const cy = oy + side / 2 + Math.sin(angle) * distance;
  const placed: Scene = { ...scene, objects: [{ ...object, cx, cy, radius }] };
  const upright = await renderScene(placed, i);
  // Orientation 6: the viewer turns the stored pixels 90° clockwise; 8: counter-clockwise.
  const stored =
    layout.orientation === 1
      ? upright
      : new Uint8Array(
          await sharp(upright)
            .rotate(layout.orientation === 6 ? 270 : 90)
            .withMetadata({ orientation: layout.orientation })
            .png()
            .toBuffer(),
        );
  const wrong = ALL_PAIRS.find(
    (p) => p.colour !== scene.colour && p.shape !== scene.shape,
  ) as (typeof ALL_PAIRS)[number];
  return {
    bytes: stored,
    box: { x: cx - radius, y: cy - radius, width: 2 * radius, height: 2 * radius },
    label: `${scene.colour} ${scene.shape}`,
    wrong: `${wrong.colour} ${wrong.shape}`,
  };
}

const intersects = (a: Box, b: Box) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

/**
 * /v1/explain through the whole product on fresh renders of single objects placed off-centre, in landscape, portrait
 * and EXIF-rotated photos: every photo's upright size, and the correct label's peak cell intersecting the object's box
 * (in the upright photo's pixels, so the coordinate mapping is tested) for at least 85% of renders (issue 13's bar),
 * and more often than a wrong label's peak does.
 */
describe.skipIf(!modelPresent())("end to end: explanations find the object", () => {
  let stack: EdgeStack;
  let hits = { right: 0, wrong: 0 };
  const sizes: boolean[] = [];

  beforeAll(async () => {
    stack = await startEdgeStack({});
    const renders = await Promise.all(Array.from({ length: RENDERS }, (_, i) => render(i)));
    for (const [i, r] of renders.entries()) {
      const response = await fetch(`${stack.edgeUrl}/v1/explain`, {
        method: "POST",
        headers: { "content-type": "application/json", ...stack.apiHeaders },
        body: JSON.stringify({
          image: { base64: Buffer.from(r.bytes).toString("base64") },
          labels: [r.label, r.wrong],
          grid: 7,
        }),
      });
      expect(response.status, await response.clone().text()).toBe(200);
      const answer = (await response.json()) as Explained;
      const layout = LAYOUTS[i % LAYOUTS.length] as (typeof LAYOUTS)[number];
      // The layout's size is the upright photo's, whatever its stored orientation.
      sizes.push(answer.image.width === layout.width && answer.image.height === layout.height);
      hits = {
        right: hits.right + Number(intersects(answer.results[0]?.peak as Box, r.box)),
        wrong: hits.wrong + Number(intersects(answer.results[1]?.peak as Box, r.box)),
      };
    }
    console.log(
      `explain: the correct label's peak hit the object in ${hits.right} of ${RENDERS} renders, a wrong label's in ${hits.wrong}`,
    );
  }, 900_000);
  afterAll(() => stack?.stop());

  it("reports every photo's upright size (EXIF orientation applied)", () => {
    expect(sizes.every(Boolean)).toBe(true);
  });

  it("peaks on the object with the correct label for at least 85% of renders", () => {
    expect(hits.right / RENDERS).toBeGreaterThanOrEqual(0.85);
  });

  it("peaks on the object more often with the correct label than with a wrong one", () => {
    expect(hits.right).toBeGreaterThan(hits.wrong);
  });
});
