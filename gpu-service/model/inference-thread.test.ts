import { cp, mkdtemp, rename, rm, utimes } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { modelPresent, TEST_MODEL_DIR } from "../../test/support/gpu-service.ts";
import { crashInferenceThread, FAULTY_INFERENCE_THREAD } from "../../test/support/inference-thread.ts";
import { ClipModel, type TextBatch } from "./clip-model.ts";
import { ModelUnavailableError, ThreadedClipModel } from "./inference-thread.ts";
import { ModelFolderError } from "./model-folder.ts";

/** Event-loop turns (setImmediate callbacks) that ran while `work` was in progress. */
async function turnsDuring(work: () => Promise<unknown>): Promise<number> {
  let turns = 0;
  let running = true;
  const tick = () => {
    if (!running) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  running = false;
  return turns;
}

function textBatch(rows: number[][]): TextBatch {
  const length = Math.max(...rows.map((r) => r.length));
  const ids = new BigInt64Array(rows.length * length);
  for (const [r, row] of rows.entries())
    for (const [i, id] of row.entries()) ids[r * length + i] = BigInt(id);
  return { ids, count: rows.length, length, lengths: rows.map((r) => r.length) };
}

describe.skipIf(!modelPresent())("ThreadedClipModel", () => {
  let here: ClipModel;
  let threaded: ThreadedClipModel;
  let pixels: Float32Array;
  const batch = 64;

  beforeAll(async () => {
    here = await ClipModel.load(TEST_MODEL_DIR, { providers: ["cpu"] });
    threaded = await ThreadedClipModel.load(TEST_MODEL_DIR, { providers: ["cpu"] });
    const size = here.folder.imageSize;
    pixels = new Float32Array(new SharedArrayBuffer(batch * 3 * size * size * 4));
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.013) * 1.5;
  });
  afterAll(async () => {
    await here.release();
    await threaded.release();
  });

  it("reports the folder, providers and dimension the model has on its own thread", () => {
    expect(threaded.folder).toEqual(here.folder);
    expect(threaded.providers).toEqual(["cpu"]);
    expect(threaded.embeddingDim).toBe(here.embeddingDim);
  });

  it("gives the same embeddings as the sessions on the calling thread, shared tensor or not", async () => {
    expect(await threaded.embedImages(pixels, 3)).toEqual(await here.embedImages(pixels, 3));
    const copy = Float32Array.from(pixels.subarray(0, 2 * 3 * here.folder.imageSize ** 2));
    expect(await threaded.embedImages(copy, 2)).toEqual(await here.embedImages(copy, 2));
    const texts = textBatch([
      [1, 20, 2],
      [1, 20, 21, 22, 2],
    ]);
    expect(await threaded.embedTexts(texts)).toEqual(await here.embedTexts(texts));
  });

  it("leaves the event loop free while a batch runs, where the calling thread's sessions hold it", async () => {
    const held = await turnsDuring(() => here.embedImages(pixels, batch));
    const free = await turnsDuring(() => threaded.embedImages(pixels, batch));
    expect(held).toBeLessThanOrEqual(3);
    expect(free).toBeGreaterThan(5 * Math.max(1, held));
  });

  it("fails one call with ONNX Runtime's message and keeps serving the next", async () => {
    const outOfVocabulary = textBatch([[1, 10_000_000, 2]]);
    await expect(threaded.embedTexts(outOfVocabulary)).rejects.toThrow(/indices|out of|bounds/i);
    expect((await threaded.embedImages(pixels, 1)).length).toBe(threaded.embeddingDim);
  });

  it("rejects a tensor too small for the count before posting it", async () => {
    await expect(threaded.embedImages(new Float32Array(10), 1)).rejects.toThrow(/1 images need/);
  });

  it("fails a bad folder as ClipModel.load does: a ModelFolderError naming the file", async () => {
    const [a, b] = await Promise.all(
      [ClipModel.load, ThreadedClipModel.load].map((load) =>
        load("models/no-such-model", {
          providers: ["cpu"],
          log: () => {},
          threadScript: FAULTY_INFERENCE_THREAD,
        }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    expect(b).toBeInstanceOf(ModelFolderError);
    expect((b as ModelFolderError).message).toBe((a as ModelFolderError).message);
    expect((b as ModelFolderError).file).toBe((a as ModelFolderError).file);
  });

  it("passes the thread's log lines to the caller's log (a precision fallback)", async () => {
    const lines: string[] = [];
    const fallback = await ThreadedClipModel.load(TEST_MODEL_DIR, {
      providers: ["cpu"],
      precision: "fp16",
      log: (line) => lines.push(line),
    });
    expect(fallback.folder.precision).toBe("fp32");
    expect(lines.join("\n")).toMatch(/no fp16 encoders/);
    await fallback.release();
    await expect(fallback.embedImages(pixels, 1)).rejects.toThrow(/released/);
  });

  describe("when its thread dies", () => {
    it("fails what the thread held as ModelUnavailableError, refuses at once meanwhile, then serves the same again", async () => {
      const lines: string[] = [];
      const model = await ThreadedClipModel.load(TEST_MODEL_DIR, {
        providers: ["cpu"],
        log: (l) => lines.push(l),
        threadScript: FAULTY_INFERENCE_THREAD,
      });
      const before = await model.embedImages(pixels, 2);
      const crashed = crashInferenceThread(model);
      // Posted after the fault: the thread never takes it up. Caught at once: it may fail before `crashed` resolves.
      const held = model.embedImages(pixels, 2).then(
        () => "answered",
        (error: unknown) => error,
      );
      await crashed;
      expect(await held).toBeInstanceOf(ModelUnavailableError);
      expect(model.unavailable).toMatch(/inference thread stopped .*a new one is loading/);
      await expect(model.embedTexts(textBatch([[1, 2]]))).rejects.toBeInstanceOf(ModelUnavailableError);

      await vi.waitFor(() => expect(model.unavailable).toBeUndefined(), { timeout: 30_000, interval: 20 });
      expect(await model.embedImages(pixels, 2)).toEqual(before);
      expect(lines.join("\n")).toMatch(/a new inference thread serves .* after \d+ ms/);
      await model.release();
    });

    it("keeps retrying a restart that fails, with the reason in `unavailable`, and recovers once it can load", async () => {
      const root = await mkdtemp(join(tmpdir(), "inference-thread-"));
      const dir = join(root, "model");
      await cp(TEST_MODEL_DIR, dir, { recursive: true });
      const model = await ThreadedClipModel.load(dir, {
        providers: ["cpu"],
        log: () => {},
        threadScript: FAULTY_INFERENCE_THREAD,
      });
      const before = await model.embedImages(pixels, 1);
      await rename(dir, `${dir}.away`);
      await crashInferenceThread(model);
      await vi.waitFor(() => expect(model.unavailable).toMatch(/could not be restarted .*retrying/), {
        timeout: 30_000,
        interval: 20,
      });
      await expect(model.embedImages(pixels, 1)).rejects.toBeInstanceOf(ModelUnavailableError);
      await rename(`${dir}.away`, dir);
      await vi.waitFor(() => expect(model.unavailable).toBeUndefined(), { timeout: 60_000, interval: 50 });
      expect(await model.embedImages(pixels, 1)).toEqual(before);
      await model.release();
      await rm(root, { recursive: true, force: true });
    });

    it("releases without waiting on a thread that is gone, and no restart follows", async () => {
      const root = await mkdtemp(join(tmpdir(), "inference-thread-"));
      const dir = join(root, "model");
      await cp(TEST_MODEL_DIR, dir, { recursive: true });
      const lines: string[] = [];
      const model = await ThreadedClipModel.load(dir, {
        providers: ["cpu"],
        log: (l) => lines.push(l),
        threadScript: FAULTY_INFERENCE_THREAD,
      });
      await rename(dir, `${dir}.away`);
      await crashInferenceThread(model);
      await vi.waitFor(() => expect(model.unavailable).toMatch(/could not be restarted/), {
        timeout: 30_000,
      });
      // The next try (1 s on) would now succeed; released first, it must never come.
      await rename(`${dir}.away`, dir);
      await model.release();
      const logged = lines.length;
      await expect(model.embedImages(pixels, 1)).rejects.toThrow(/released/);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(lines.slice(logged)).toEqual([]);
      expect(lines.join("\n")).not.toMatch(/a new inference thread serves/);
      await rm(root, { recursive: true, force: true });
    });

    it("warms a replacement (rewarm) before it serves, and retries one whose warm-up fails", async () => {
      let warmUps = 0;
      const seenDown: (string | undefined)[] = [];
      const model: ThreadedClipModel = await ThreadedClipModel.load(TEST_MODEL_DIR, {
        providers: ["cpu"],
        log: () => {},
        threadScript: FAULTY_INFERENCE_THREAD,
        rewarm: async (encoders) => {
          warmUps++;
          seenDown.push(model.unavailable);
          expect((await encoders.embedImages(pixels, 4)).length).toBe(4 * encoders.embeddingDim);
          if (warmUps === 1) throw new Error("a warm-up that fails");
        },
      });
      expect(warmUps).toBe(0); // the first thread is warmed by its caller (the service's start-up)
      const before = await model.embedImages(pixels, 1);
      await crashInferenceThread(model);
      await vi.waitFor(() => expect(model.unavailable).toBeUndefined(), { timeout: 60_000, interval: 20 });
      expect(warmUps).toBe(2);
      // Out of rotation during both warm-ups; the failed one's reason was shown meanwhile.
      expect(seenDown[0]).toMatch(/inference thread stopped/);
      expect(seenDown[1]).toMatch(/could not be restarted \(a warm-up that fails\)/);
      expect(await model.embedImages(pixels, 1)).toEqual(before);
      await model.release();
    });

    it("refuses a replacement that loaded other encoder files than the first thread (a re-pull in place)", async () => {
      const root = await mkdtemp(join(tmpdir(), "inference-thread-"));
      const dir = join(root, "model");
      await cp(TEST_MODEL_DIR, dir, { recursive: true });
      const vision = join(dir, "onnx", "vision_model.onnx");
      const mtime = new Date("2026-01-01T00:00:00Z"); // whole milliseconds: restored exactly below
      await utimes(vision, mtime, mtime);
      const model = await ThreadedClipModel.load(dir, {
        providers: ["cpu"],
        log: () => {},
        threadScript: FAULTY_INFERENCE_THREAD,
      });
      expect(model.folder.visionModelPath).toBe(vision);
      await utimes(vision, mtime, new Date(mtime.getTime() + 60_000));
      await crashInferenceThread(model);
      await vi.waitFor(() => expect(model.unavailable).toMatch(/did not load what the first thread did/), {
        timeout: 30_000,
        interval: 20,
      });
      await utimes(vision, mtime, mtime);
      await vi.waitFor(() => expect(model.unavailable).toBeUndefined(), { timeout: 60_000, interval: 50 });
      await model.release();
      await rm(root, { recursive: true, force: true });
    });
  });
});
