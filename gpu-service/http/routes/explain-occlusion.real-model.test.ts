import sharp, { type Sharp } from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EXPLAIN_GEOMETRY_HEADER,
  MAX_OCCLUSION_ITEMS,
  type OcclusionGeometry,
  occlusionCells,
  parseOcclusionGeometry,
} from "../../../src/protocol/explain.ts";
import { decodeResponse, embeddingToFloat32, parseGpuProblem } from "../../../src/protocol/index.ts";
import { dot } from "../../../src/vector/index.ts";
import {
  frame,
  modelPresent,
  signedPost,
  startTestService,
  TEST_MODEL_DIR,
} from "../../../test/support/gpu-service.ts";
import type { RunningService } from "../../service.ts";

/** A red circle on white, `r` px radius centred at (cx, cy): an object whose pixels are known. */
function redCircle(width: number, height: number, cx: number, cy: number, r: number) {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="#fff"/><circle cx="${cx}" cy="${cy}" r="${r}" fill="#e01010"/></svg>`;
  return sharp(Buffer.from(svg)).removeAlpha();
}
const png = async (s: Sharp) => new Uint8Array(await s.png().toBuffer());

/** The occlusion answer: embeddings in order (unoccluded first) and the geometry. */
async function occlude(service: RunningService, image: Uint8Array, grid: number) {
  const response = await signedPost(
    `${service.url}/v1/explain/occlusion?grid=${grid}`,
    frame({ kind: "images", dtype: "f32", images: [image] }),
  );
  expect(response.status).toBe(200);
  const geometry = parseOcclusionGeometry(response.headers.get(EXPLAIN_GEOMETRY_HEADER));
  const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()), {
    maxItems: MAX_OCCLUSION_ITEMS,
  });
  if (!decoded.ok) throw new Error(decoded.message);
  if (!geometry) throw new Error("no geometry header");
  const embeddings = decoded.value.items.map((item) => {
    if (item.status !== "ok") throw new Error(`item failed: ${item.status}`);
    return embeddingToFloat32(item.embedding);
  });
  return { geometry, embeddings };
}

/** The crop must be the centred square of the short side, to within one pixel of the resized image. */
function expectCentredSquare(geometry: OcclusionGeometry, width: number, height: number) {
  const short = Math.min(width, height);
  const onePixel = short / 224 + 1e-9;
  expect(geometry.image).toEqual({ width, height });
  expect(Math.abs(geometry.crop.x - (width - short) / 2)).toBeLessThanOrEqual(onePixel);
  expect(Math.abs(geometry.crop.y - (height - short) / 2)).toBeLessThanOrEqual(onePixel);
  expect(Math.abs(geometry.crop.width - short)).toBeLessThanOrEqual(onePixel);
  expect(Math.abs(geometry.crop.height - short)).toBeLessThanOrEqual(onePixel);
}

describe.skipIf(!modelPresent())(`POST /v1/explain/occlusion (${TEST_MODEL_DIR})`, () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService();
  }, 180_000);
  afterAll(() => service?.shutdown());

  it("reports a landscape's and a portrait's crop as the centred square, and cells tiling it row-major", async () => {
    for (const [width, height] of [
      [640, 480],
      [480, 640],
    ] as const) {
      const image = await png(redCircle(width, height, width / 3, height / 3, 40));
      const { geometry, embeddings } = await occlude(service, image, 4);
      expectCentredSquare(geometry, width, height);
      expect(geometry).toMatchObject({ input: { width: 224, height: 224 }, grid: { rows: 4, cols: 4 } });
      expect(embeddings).toHaveLength(17);
      const cells = occlusionCells(geometry);
      expect(cells.map((c) => [c.row, c.col]).slice(0, 5)).toEqual([
        [0, 0],
        [0, 1],
        [0, 2],
        [0, 3],
        [1, 0],
      ]);
      const last = cells[15]?.box;
      expect(cells[0]?.box.x).toBeCloseTo(geometry.crop.x, 9);
      expect((last?.x ?? 0) + (last?.width ?? 0)).toBeCloseTo(geometry.crop.x + geometry.crop.width, 9);
      expect((last?.y ?? 0) + (last?.height ?? 0)).toBeCloseTo(geometry.crop.y + geometry.crop.height, 9);
    }
  });

  it("measures an EXIF-rotated photo after its orientation: width and height swapped", async () => {
    // Stored 640×480 sideways with orientation 6 (rotate 90° clockwise to view): upright it is 480×640.
    const stored = redCircle(640, 480, 200, 150, 50).jpeg().withMetadata({ orientation: 6 });
    const image = new Uint8Array(await stored.toBuffer());
    expect((await sharp(image).metadata()).orientation).toBe(6);
    const { geometry } = await occlude(service, image, 5);
    expectCentredSquare(geometry, 480, 640);
  });

  it("answers the unoccluded image first, equal to its /v1/embed/images embedding", async () => {
    const image = await png(redCircle(400, 300, 130, 110, 45));
    const { embeddings } = await occlude(service, image, 6);
    const response = await signedPost(
      `${service.url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f32", images: [image] }),
    );
    const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()));
    if (!decoded.ok || decoded.value.items[0]?.status !== "ok") throw new Error("embedding failed");
    const reference = embeddingToFloat32(decoded.value.items[0].embedding);
    expect(dot(embeddings[0] as Float32Array, reference)).toBeGreaterThanOrEqual(0.9999);
    for (const e of embeddings) expect(dot(e, e)).toBeCloseTo(1, 4);
  });

  it("loses more of 'a photo of a red circle' when the circle's cells are hidden than empty background", async () => {
    // 448² keeps the crop the whole image: the circle sits in the top-left 3×3 cells of a 7×7 grid (64 px each).
    const image = await png(redCircle(448, 448, 112, 112, 56));
    const { geometry, embeddings } = await occlude(service, image, 7);
    const ids = Uint32Array.from(service.deps.tokenizer.encode("a photo of a red circle."));
    const text = await service.deps.texts.embed(ids);
    if (!text.ok) throw new Error(text.message);
    const base = dot(embeddings[0] as Float32Array, text.embedding);
    const drops = occlusionCells(geometry).map((cell, i) => ({
      cell,
      drop: base - dot(embeddings[i + 1] as Float32Array, text.embedding),
    }));
    const covers = ({ box }: { box: { x: number; y: number; width: number; height: number } }) =>
      box.x < 168 && box.x + box.width > 56 && box.y < 168 && box.y + box.height > 56;
    const object = drops.filter((d) => covers(d.cell));
    const background = drops.filter((d) => d.cell.row >= 4 && d.cell.col >= 4);
    const mean = (xs: { drop: number }[]) => xs.reduce((s, x) => s + x.drop, 0) / xs.length;
    console.log(
      `occlusion: base ${base.toFixed(3)}, mean drop over the circle's ${object.length} cells ${mean(object).toFixed(4)}, ` +
        `over ${background.length} background cells ${mean(background).toFixed(4)}`,
    );
    expect(object).toHaveLength(9);
    expect(mean(object)).toBeGreaterThan(mean(background));
    const peak = drops.reduce((best, d) => (d.drop > best.drop ? d : best));
    expect(covers(peak.cell)).toBe(true);
  });

  it.each(["3", "15", "6.5", "", "seven"])("refuses grid=%j with 400 invalid_input", async (grid) => {
    const image = await png(redCircle(64, 64, 32, 32, 10));
    const response = await signedPost(
      `${service.url}/v1/explain/occlusion?grid=${grid}`,
      frame({ kind: "images", dtype: "f32", images: [image] }),
    );
    expect(response.status).toBe(400);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(parseGpuProblem(body, response.headers.get("content-type") ?? "")?.code).toBe("invalid_input");
  });

  it("refuses two images, and answers a corrupt one as a one-item frame with its status", async () => {
    const image = await png(redCircle(64, 64, 32, 32, 10));
    const two = await signedPost(
      `${service.url}/v1/explain/occlusion?grid=4`,
      frame({ kind: "images", dtype: "f32", images: [image, image] }),
    );
    expect(two.status).toBe(400);
    const corrupt = await signedPost(
      `${service.url}/v1/explain/occlusion?grid=4`,
      frame({ kind: "images", dtype: "f16", images: [new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2])] }),
    );
    expect(corrupt.status).toBe(200);
    expect(corrupt.headers.get(EXPLAIN_GEOMETRY_HEADER)).toBeNull();
    const decoded = decodeResponse(new Uint8Array(await corrupt.arrayBuffer()));
    if (!decoded.ok) throw new Error(decoded.message);
    expect(decoded.value.items.map((i) => i.status)).toEqual(["invalid_image"]);
  });
});
