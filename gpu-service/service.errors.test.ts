import { crc32 } from "node:zlib";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeResponse } from "../src/protocol/index.ts";
import { frame, modelPresent, signedPost, startTestService } from "../test/support/gpu-service.ts";
import type { RunningService } from "./service.ts";

const encode = (format: "jpeg" | "png" | "webp" | "gif" | "tiff", width = 64, height = 48) =>
  sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .toFormat(format)
    .toBuffer()
    .then((b) => new Uint8Array(b));

/** A real PNG whose header is rewritten to claim other dimensions (CRC fixed): refused from the header, never decoded. */
function pngClaiming(png: Uint8Array, width: number, height: number): Uint8Array {
  const bytes = png.slice();
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(bytes.subarray(12, 29)));
  return bytes;
}

const text = (s: string) => new TextEncoder().encode(s);

async function badImages(): Promise<[string, Uint8Array, string][]> {
  const jpeg = await encode("jpeg", 640, 480);
  const png = await encode("png", 640, 480);
  const webp = await encode("webp", 640, 480);
  const gif = await encode("gif");
  const tiff = await encode("tiff");
  return [
    ["empty", new Uint8Array(0), "invalid_image"],
    ["one byte", new Uint8Array([0xff]), "invalid_image"],
    ["random bytes", Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251), "invalid_image"],
    ["JPEG magic only", new Uint8Array([0xff, 0xd8, 0xff]), "invalid_image"],
    ["JPEG cut at 10%", jpeg.slice(0, jpeg.length / 10), "invalid_image"],
    ["JPEG without its first marker segment", Uint8Array.of(0xff, 0xd8, ...jpeg.slice(200)), "invalid_image"],
    ["PNG cut in half", png.slice(0, png.length / 2), "invalid_image"],
    ["PNG signature only", png.slice(0, 8), "invalid_image"],
    [
      "PNG header claiming 100k × 100k (a decompression bomb)",
      pngClaiming(png, 100_000, 100_000),
      "image_too_large",
    ],
    ["PNG header claiming 0 × 0", pngClaiming(png, 0, 0), "invalid_image"],
    ["WebP cut in half", webp.slice(0, webp.length / 2), "invalid_image"],
    ["GIF header only", gif.slice(0, 13), "invalid_image"],
    ["TIFF cut in half", tiff.slice(0, tiff.length / 2), "invalid_image"],
    [
      "SVG",
      text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
      ),
      "unsupported_format",
    ],
    [
      "SVG with an XML prolog",
      text('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
      "unsupported_format",
    ],
    ["PDF", text("%PDF-1.7\n1 0 obj\n<<>>\nendobj\n"), "unsupported_format"],
    ["HTML page", text("<!DOCTYPE html><html><body>not an image</body></html>"), "unsupported_format"],
    ["JSON", text('{"image": "no"}'), "unsupported_format"],
    [
      "BMP",
      Uint8Array.of(
        0x42,
        0x4d,
        0x3a,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0x36,
        0,
        0,
        0,
        0x28,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        1,
        0,
        24,
        0,
      ),
      "unsupported_format",
    ],
    [
      "HEIC brand",
      Uint8Array.of(
        0,
        0,
        0,
        24,
        0x66,
        0x74,
        0x79,
        0x70,
        0x68,
        0x65,
        0x69,
        0x63,
        0,
        0,
        0,
        0,
        0x6d,
        0x69,
        0x66,
        0x31,
        0x68,
        0x65,
        0x69,
        0x63,
      ),
      "unsupported_format",
    ],
    ["ZIP archive", Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 8, 0), "unsupported_format"],
    ["gzip stream", Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3), "unsupported_format"],
    ["plain text", text("a photo of a cat"), "invalid_image"],
    ["bytes over the 10 MiB limit", new Uint8Array(10 * 1024 * 1024 + 1).fill(0xff), "image_too_large"],
  ];
}

describe.skipIf(!modelPresent())(
  "GPU service: bad images fail alone, bad frames fail clearly, nothing crashes",
  () => {
    let service: RunningService;
    beforeAll(async () => {
      service = await startTestService();
    }, 120_000);
    afterAll(() => service?.shutdown());

    it("gives every bad image its own code next to good ones, in one batch", async () => {
      const corpus = await badImages();
      const good = await encode("png");
      const images = [good, ...corpus.map(([, bytes]) => bytes), good];
      const response = await signedPost(
        `${service.url}/v1/embed/images`,
        frame({ kind: "images", dtype: "f16", images }),
      );
      expect(response.status).toBe(200);
      const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()));
      if (!decoded.ok) throw new Error(decoded.message);
      const statuses = decoded.value.items.map((i) => i.status);
      const expected = ["ok", ...corpus.map(([, , code]) => code), "ok"];
      const names = ["good", ...corpus.map(([name]) => name), "good"];
      expect(statuses.map((s, i) => `${names[i]}: ${s}`)).toEqual(
        expected.map((s, i) => `${names[i]}: ${s}`),
      );
      // The service is still healthy after all of it.
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    }, 60_000);

    const valid = frame({ kind: "texts", dtype: "f32", texts: [[1, 2]] });
    const corrupt = (mutate: (bytes: Uint8Array) => void) => {
      const copy = valid.slice();
      mutate(copy);
      return copy;
    };
    const badFrames: [string, Uint8Array, string, number][] = [
      ["an empty body", new Uint8Array(0), "/v1/embed/texts", 400],
      ["bad magic", corrupt((b) => b.set([0x47, 0x49, 0x46, 0x38], 0)), "/v1/embed/texts", 400],
      ["an unknown version", corrupt((b) => b.set([9], 4)), "/v1/embed/texts", 400],
      ["an unknown frame type", corrupt((b) => b.set([0x7f], 5)), "/v1/embed/texts", 400],
      ["a truncated frame", valid.slice(0, valid.length - 3), "/v1/embed/texts", 400],
      ["trailing bytes", Uint8Array.of(...valid, 0, 0, 0, 0), "/v1/embed/texts", 400],
      [
        "a lying item count",
        corrupt((b) => new DataView(b.buffer).setUint32(8, 1_000_000, true)),
        "/v1/embed/texts",
        400,
      ],
      ["texts sent to the images route", valid, "/v1/embed/images", 400],
      [
        "65 images in one frame",
        frame({
          kind: "images",
          dtype: "f32",
          images: Array.from({ length: 65 }, () => new Uint8Array([1])),
        }),
        "/v1/embed/images",
        400,
      ],
    ];

    it.each(badFrames.map(([name, body, path, status]) => ({ name, body, path, status })))(
      "refuses $name at $path → $status problem+json",
      async ({ body, path, status }) => {
        const response = await signedPost(`${service.url}${path}`, body);
        expect(response.status).toBe(status);
        expect(response.headers.get("content-type")).toBe("application/problem+json");
      },
    );

    it("refuses a wrong content type with 415", async () => {
      const response = await signedPost(`${service.url}/v1/embed/texts`, valid, "application/json");
      expect(response.status).toBe(415);
    });

    it("answers 503 with Retry-After when the queue is full, and stays up", async () => {
      const small = await startTestService({ MAX_QUEUE: "4", BATCH_SIZES: "1,2" });
      try {
        const image = await encode("jpeg");
        const response = await signedPost(
          `${small.url}/v1/embed/images`,
          frame({ kind: "images", dtype: "f32", images: Array.from({ length: 40 }, () => image) }),
        );
        expect(response.status).toBe(503);
        expect(Number(response.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(((await response.json()) as { code: string }).code).toBe("overloaded");
        const after = await signedPost(
          `${small.url}/v1/embed/images`,
          frame({ kind: "images", dtype: "f32", images: [image] }),
        );
        expect(after.status).toBe(200);
      } finally {
        await small.shutdown();
      }
    }, 120_000);

    it("answers 503 when a request outlives its timeout", async () => {
      const slow = await startTestService({
        BATCH_MAX_WAIT_MS: "5000",
        REQUEST_TIMEOUT_MS: "200",
        BATCH_SIZES: "64",
      });
      try {
        const response = await signedPost(
          `${slow.url}/v1/embed/images`,
          frame({ kind: "images", dtype: "f32", images: [await encode("png")] }),
        );
        expect(response.status).toBe(503);
        expect(((await response.json()) as { code: string }).code).toBe("timeout");
      } finally {
        await slow.shutdown();
      }
    }, 120_000);
  },
);
