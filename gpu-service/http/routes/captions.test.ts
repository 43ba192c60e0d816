import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GpuCaptionsReply } from "../../../src/protocol/index.ts";
import { decodeResponse, embeddingToFloat32 } from "../../../src/protocol/index.ts";
import { float16ToFloat32 } from "../../../src/vector/index.ts";
import { writeFakeClipModel } from "../../../test/support/fake-clip-model.ts";
import { frame, signedPost, startTestService } from "../../../test/support/gpu-service.ts";
import { main as buildBank } from "../../../tools/captions-build/main.ts";
import { openCaptionBank } from "../../captions/index.ts";
import type { RunningService } from "../../service.ts";

const CAPTIONS = [
  "a photo of a red circle",
  "two blue stars",
  "three green squares",
  "the red square",
  "a star",
];
const quiet = { stdout: { write: () => true }, stderr: { write: () => true } };
const solid = (r: number, g: number, b: number, format: "png" | "jpeg" = "png") =>
  sharp({ create: { width: 48, height: 40, channels: 3, background: { r, g, b } } })
    [format]()
    .toBuffer()
    .then((bytes) => new Uint8Array(bytes));

const problemCode = async (response: Response) => ((await response.json()) as { code: string }).code;

/** The route over real HTTP, on a fake model (real ONNX Runtime, sharp, signing and batching; meaningless weights). */
describe("POST /v1/captions", () => {
  let root: string;
  let service: RunningService;
  let bankRows: Float32Array;
  let bankTexts: string[];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "captions-route-"));
    const model = await writeFakeClipModel(join(root, "model"));
    await writeFile(join(root, "corpus.txt"), `${CAPTIONS.join("\n")}\n`);
    expect(await buildBank(["--corpus", join(root, "corpus.txt"), "--model", model.dir], quiet)).toBe(0);
    const opened = await openCaptionBank(join(model.dir, "captions"));
    if (!opened.ok) throw new Error(opened.message);
    const { readFile } = await import("node:fs/promises");
    const bytes = await readFile(opened.bank.embeddingsPath);
    bankRows = float16ToFloat32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
    bankTexts = CAPTIONS.map((_, i) => opened.bank.texts.get(i));
    service = await startTestService({ MODEL_DIR: model.dir, BATCH_SIZES: "1,4" });
  }, 60_000);
  afterAll(async () => {
    await service?.shutdown();
    await rm(root, { recursive: true, force: true });
  });

  const post = (query: string, body: Uint8Array, contentType?: string) =>
    signedPost(`${service.url}/v1/captions${query}`, body, contentType);

  it("answers each image with its nearest captions, best first, scored by cosine similarity; a bad image fails alone", async () => {
    const images = [await solid(255, 0, 0), new Uint8Array([1, 2, 3]), await solid(0, 0, 255, "jpeg")];
    const response = await post("?top_k=2", frame({ kind: "images", dtype: "f32", images }));
    expect(response.status).toBe(200);
    const body = (await response.json()) as GpuCaptionsReply;
    expect(body.model).toBe("fake-clip");
    expect(body.preprocessing).toBe(service.deps.preprocessingVersion);
    expect(body.results.map((r) => r.status)).toEqual(["ok", "invalid_image", "ok"]);

    // The same images through /v1/embed/images, searched by brute force over the bank, give the same answer.
    const embedded = await signedPost(
      `${service.url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f32", images }),
    );
    const decoded = decodeResponse(new Uint8Array(await embedded.arrayBuffer()));
    if (!decoded.ok) throw new Error(decoded.message);
    for (const i of [0, 2]) {
      const result = body.results[i];
      const item = decoded.value.items[i];
      if (result?.status !== "ok" || item?.status !== "ok") throw new Error("expected ok");
      const image = embeddingToFloat32(item.embedding);
      const scores = CAPTIONS.map((_, row) =>
        image.reduce((sum, v, j) => sum + v * (bankRows[row * image.length + j] as number), 0),
      );
      const best = scores
        .map((score, index) => ({ index, score }))
        .sort((a, b) => b.score - a.score)
        .slice(0, 2);
      expect(result.captions.map((c) => c.index)).toEqual(best.map((b) => b.index));
      for (const [j, caption] of result.captions.entries()) {
        expect(caption.text).toBe(bankTexts[caption.index]);
        expect(caption.score).toBeCloseTo(best[j]?.score as number, 5);
      }
    }
    expect(body.results[1]).toMatchObject({ status: "invalid_image", message: expect.any(String) });
  });

  it("defaults to 5 captions and never returns more than the bank holds", async () => {
    const response = await post(
      "",
      frame({ kind: "images", dtype: "f16", images: [await solid(0, 255, 0)] }),
    );
    const body = (await response.json()) as GpuCaptionsReply;
    const [result] = body.results;
    expect(result?.status === "ok" && result.captions.length).toBe(5);
    const all = await post(
      "?top_k=100",
      frame({ kind: "images", dtype: "f16", images: [await solid(0, 255, 0)] }),
    );
    const [everything] = ((await all.json()) as GpuCaptionsReply).results;
    expect(everything?.status === "ok" && everything.captions.map((c) => c.index).sort()).toEqual([
      0, 1, 2, 3, 4,
    ]);
  });

  it("serves concurrent requests (their searches share the caption batcher)", async () => {
    const image = await solid(10, 20, 30);
    const responses = await Promise.all(
      Array.from({ length: 12 }, () =>
        post("?top_k=1", frame({ kind: "images", dtype: "f32", images: [image] })),
      ),
    );
    const firsts = await Promise.all(
      responses.map(async (r) => ((await r.json()) as GpuCaptionsReply).results[0]),
    );
    expect(new Set(firsts.map((r) => (r?.status === "ok" ? r.captions[0]?.index : -1))).size).toBe(1);
  });

  it("refuses bad top_k values, text frames, other media types and unsigned requests", async () => {
    const images = frame({ kind: "images", dtype: "f32", images: [await solid(1, 2, 3)] });
    for (const query of ["?top_k=0", "?top_k=101", "?top_k=abc", "?top_k=2.5", "?top_k=-1"]) {
      const response = await post(query, images);
      expect(response.status, query).toBe(400);
      expect(await problemCode(response)).toBe("invalid_input");
    }
    const texts = await post("", frame({ kind: "texts", dtype: "f32", texts: [[1, 2]] }));
    expect([texts.status, await problemCode(texts)]).toEqual([400, "invalid_input"]);
    expect((await post("", images, "application/json")).status).toBe(415);
    const tooMany = await post(
      "",
      frame({ kind: "images", dtype: "f32", images: Array.from({ length: 65 }, () => new Uint8Array([1])) }),
    );
    expect([tooMany.status, await problemCode(tooMany)]).toEqual([400, "invalid_input"]);
    const unsigned = await fetch(`${service.url}/v1/captions`, { method: "POST", body: images });
    expect(unsigned.status).toBe(401);
  });
});

describe("caption banks at start-up", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "captions-startup-"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("without a bank the service runs and /v1/captions answers 404 no_caption_bank", async () => {
    const model = await writeFakeClipModel(join(root, "bankless"));
    const service = await startTestService({ MODEL_DIR: model.dir, BATCH_SIZES: "1" });
    try {
      const response = await signedPost(
        `${service.url}/v1/captions`,
        frame({ kind: "images", dtype: "f32", images: [await solid(1, 2, 3)] }),
      );
      expect(response.status).toBe(404);
      expect(await problemCode(response)).toBe("no_caption_bank");
    } finally {
      await service.shutdown();
    }
  });

  it("refuses to start with a bank built by another text encoder, or a CAPTION_BANK that is not a bank", async () => {
    const built = await writeFakeClipModel(join(root, "before"), { seed: 1 });
    await writeFile(join(root, "corpus.txt"), "a red circle\n");
    expect(await buildBank(["--corpus", join(root, "corpus.txt"), "--model", built.dir], quiet)).toBe(0);
    // "Retrained": same id and vocabulary, other weights.
    const retrained = await writeFakeClipModel(join(root, "after"), { seed: 2 });
    await expect(
      startTestService({
        MODEL_DIR: retrained.dir,
        CAPTION_BANK: join(built.dir, "captions"),
        BATCH_SIZES: "1",
      }),
    ).rejects.toThrow(/caption bank: .*manifest\.json: .*another fp32 text encoder/);
    await expect(
      startTestService({ MODEL_DIR: retrained.dir, CAPTION_BANK: join(root, "nowhere"), BATCH_SIZES: "1" }),
    ).rejects.toThrow(/caption bank: .*manifest\.json: is missing/);
  });
});
