import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64 } from "../../../src/encoding/base64.ts";
import { parseGpuProblem } from "../../../src/protocol/index.ts";
import {
  modelPresent,
  signedPost,
  startTestService,
  TEST_MODEL_DIR,
} from "../../../test/support/gpu-service.ts";
import type { RunningService } from "../../service.ts";

const white = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } });

/** Scores of a g×g grid: 1 in the top-left cell, 0 elsewhere. */
const hotCorner = (g: number) =>
  Array.from({ length: g }, (_, r) => Array.from({ length: g }, (_, c) => (r === 0 && c === 0 ? 1 : 0)));

describe.skipIf(!modelPresent())(`POST /v1/explain/heatmap (${TEST_MODEL_DIR})`, () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService({ BATCH_SIZES: "1" });
  }, 180_000);
  afterAll(() => service?.shutdown());

  const heatmap = (image: Uint8Array, scores: unknown) =>
    signedPost(
      `${service.url}/v1/explain/heatmap`,
      new TextEncoder().encode(JSON.stringify({ image: encodeBase64(image), scores })),
      "application/json",
    );

  it.each([
    // [stored width, height, EXIF orientation, expected PNG size]: the crop (the centred square of the short side
    // after orientation), scaled down to 512 px when larger; small crops keep their size.
    [1600, 1200, 1, 512, 512],
    [300, 200, 1, 200, 200],
    [200, 360, 1, 200, 200],
    [300, 200, 6, 200, 200],
  ])("renders a %i×%i (orientation %i) photo's crop as a %i×%i PNG", async (w, h, orientation, ew, eh) => {
    const image = new Uint8Array(await white(w, h).jpeg().withMetadata({ orientation }).toBuffer());
    const response = await heatmap(image, hotCorner(7));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    const png = new Uint8Array(await response.arrayBuffer());
    const meta = await sharp(png).metadata();
    expect(meta.format).toBe("png");
    expect(Math.abs((meta.width ?? 0) - ew)).toBeLessThanOrEqual(1);
    expect(Math.abs((meta.height ?? 0) - eh)).toBeLessThanOrEqual(1);
  });

  it("tints the scored cell yellow at half opacity and leaves zero-score cells as the photo", async () => {
    const image = new Uint8Array(await white(448, 448).png().toBuffer());
    const response = await heatmap(image, hotCorner(4));
    const { data, info } = await sharp(new Uint8Array(await response.arrayBuffer()))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) =>
      Array.from(data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3));
    // The top-left cell's centre: yellow (255, 255, 0) over white at 50% → blue about 128.
    const hot = pixel(Math.floor(info.width / 8), Math.floor(info.height / 8));
    expect(hot[0]).toBeGreaterThan(250);
    expect(hot[1]).toBeGreaterThan(250);
    expect(hot[2]).toBeGreaterThan(110);
    expect(hot[2]).toBeLessThan(145);
    expect(pixel(info.width - 10, info.height - 10)).toEqual([255, 255, 255]);
  });

  it("cuts the crop from the upright photo: an EXIF-rotated one's stored left edge is its top", async () => {
    // Stored 300×200 with its left third red, orientation 6 (turn 90° clockwise to view): upright 200×300, red on top.
    const band = await sharp({ create: { width: 100, height: 200, channels: 3, background: "#ff0000" } })
      .png()
      .toBuffer();
    const stored = white(300, 200).composite([{ input: band, left: 0, top: 0 }]);
    const image = new Uint8Array(await stored.jpeg().withMetadata({ orientation: 6 }).toBuffer());
    const response = await heatmap(
      image,
      hotCorner(4).map((row) => row.map(() => 0)),
    );
    const { data, info } = await sharp(new Uint8Array(await response.arrayBuffer()))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([200, 200]);
    // The crop is upright rows 50..250: its top quarter is the red band, the rest white.
    const at = (x: number, y: number) => Array.from(data.subarray((y * 200 + x) * 3, (y * 200 + x) * 3 + 3));
    const [r, g] = at(100, 20) as [number, number];
    expect(r).toBeGreaterThan(200);
    expect(g).toBeLessThan(60);
    expect((at(100, 150)[1] ?? 0) > 240).toBe(true);
  });

  it.each([
    ["scores not square", [[0, 0, 0, 0], [0], [0], [0]]],
    ["a score over 1", hotCorner(5).map((row) => row.map((s) => s * 2))],
    ["a grid of 3", hotCorner(3)],
    ["a grid of 15", hotCorner(15)],
  ])("refuses %s with 400 invalid_input", async (_, scores) => {
    const image = new Uint8Array(await white(64, 64).png().toBuffer());
    const response = await heatmap(image, scores);
    expect(response.status).toBe(400);
    const body = new Uint8Array(await response.arrayBuffer());
    expect(parseGpuProblem(body, response.headers.get("content-type") ?? "")?.code).toBe("invalid_input");
  });

  it("refuses an image that does not decode", async () => {
    const response = await heatmap(new Uint8Array([1, 2, 3, 4]), hotCorner(4));
    expect(response.status).toBe(400);
  });
});
