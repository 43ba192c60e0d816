import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity } from "../../src/vector/index.ts";
import { modelPresent, TEST_MODEL_DIR } from "../../test/support/gpu-service.ts";
import { ClipModel } from "./clip-model.ts";
import { ModelFolderError } from "./model-folder.ts";
import { loadClipTokenizer } from "./tokenizer-files.ts";

function copyOfModel(): string {
  const dir = mkdtempSync(join(tmpdir(), "model-"));
  cpSync(TEST_MODEL_DIR, dir, { recursive: true });
  return dir;
}

async function loadError(
  dir: string,
  options: Partial<Parameters<typeof ClipModel.load>[1]> = {},
): Promise<ModelFolderError> {
  const error = await ClipModel.load(dir, { providers: ["cpu"], log: () => {}, ...options }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ModelFolderError);
  return error as ModelFolderError;
}

describe.skipIf(!modelPresent())("ClipModel", () => {
  let model: ClipModel;
  beforeAll(async () => {
    model = await ClipModel.load(TEST_MODEL_DIR, { providers: ["cpu"] });
  });

  it("pads text to the longest in the batch and still equals padding to the context length (causal mask)", async () => {
    const tokenizer = await loadClipTokenizer(TEST_MODEL_DIR);
    const rows = tokenizer.tokenize(["a red circle", "two small blue stars on a grey background", "a"], {
      contextLength: 77,
    });
    const longest = Math.max(...rows.lengths);
    const asBatch = (length: number) => {
      const ids = new BigInt64Array(rows.ids.length * length);
      rows.ids.forEach((row, r) => {
        for (let i = 0; i < length; i++) ids[r * length + i] = BigInt(row[i] ?? 0);
      });
      return model.embedTexts({ ids, count: rows.ids.length, length, lengths: rows.lengths });
    };
    const [short, full] = [await asBatch(longest), await asBatch(77)];
    const dim = model.embeddingDim;
    for (let r = 0; r < rows.ids.length; r++) {
      expect(
        cosineSimilarity(short.subarray(r * dim, (r + 1) * dim), full.subarray(r * dim, (r + 1) * dim)),
      ).toBeGreaterThan(0.99999);
    }
  });

  it("reads the model's facts from its config", () => {
    expect(model.folder.contextLength).toBe(77);
    expect(model.folder.imageSize).toBe(224);
    expect(model.embeddingDim).toBeGreaterThan(0);
    expect(model.folder.logitScale).toBeGreaterThan(1);
    expect(model.providers).toEqual(["cpu"]);
  });

  it("falls back to the CPU only when ORT_PROVIDERS lists it, and says so", async () => {
    const lines: string[] = [];
    const fallback = await ClipModel.load(TEST_MODEL_DIR, {
      providers: ["cuda", "cpu"],
      log: (line) => lines.push(line),
    });
    expect(fallback.providers).toEqual(["cpu"]);
    expect(lines.join("\n")).toMatch(/falling back to the CPU/);
    const strict = await loadError(TEST_MODEL_DIR, { providers: ["cuda"] });
    expect(strict.message).toMatch(/text_model\.onnx: cannot be loaded with providers \[cuda\]/);
  });

  it("runs with the thread options bench:gpu sweeps (no spinning, parallel inter-op, one intra-op thread) and embeds the same", async () => {
    const tuned = await ClipModel.load(TEST_MODEL_DIR, {
      providers: ["cpu"],
      intraOpThreads: 1,
      interOpThreads: 2,
      spinIntraOpThreads: false,
    });
    const size = model.folder.imageSize;
    const pixels = Float32Array.from({ length: 2 * 3 * size * size }, (_, i) => Math.sin(i * 0.37));
    const [a, b] = [await model.embedImages(pixels, 2), await tuned.embedImages(pixels, 2)];
    const dim = model.embeddingDim;
    for (let r = 0; r < 2; r++)
      expect(
        cosineSimilarity(a.subarray(r * dim, (r + 1) * dim), b.subarray(r * dim, (r + 1) * dim)),
      ).toBeGreaterThan(0.99999);
    await tuned.release();
  });

  it("uses fp32 and says so when the asked precision is absent", async () => {
    const lines: string[] = [];
    const loaded = await ClipModel.load(TEST_MODEL_DIR, {
      providers: ["cpu"],
      precision: "fp16",
      log: (line) => lines.push(line),
    });
    expect(loaded.folder.precision).toBe("fp32");
    expect(lines.join("\n")).toMatch(/no fp16 encoders/);
  });

  describe("a malformed model folder fails at load, naming the file and the problem", () => {
    it("missing encoder", async () => {
      const dir = copyOfModel();
      rmSync(join(dir, "onnx", "vision_model.onnx"));
      expect((await loadError(dir)).message).toMatch(/onnx\/vision_model\.onnx: is missing/);
    });

    it("missing config.json", async () => {
      const dir = copyOfModel();
      rmSync(join(dir, "config.json"));
      expect((await loadError(dir)).message).toMatch(/config\.json: is missing/);
    });

    it("config.json that is not JSON", async () => {
      const dir = copyOfModel();
      writeFileSync(join(dir, "config.json"), "{ not json");
      expect((await loadError(dir)).message).toMatch(/config\.json: is not valid JSON/);
    });

    it("a preprocessor config with an impossible size", async () => {
      const dir = copyOfModel();
      const config = JSON.parse(readFileSync(join(dir, "preprocessor_config.json"), "utf8"));
      writeFileSync(join(dir, "preprocessor_config.json"), JSON.stringify({ ...config, crop_size: -4 }));
      expect((await loadError(dir)).message).toMatch(/preprocessor_config\.json: .*crop_size/);
    });

    it("wrong input name (the vision encoder in the text encoder's place)", async () => {
      const dir = copyOfModel();
      copyFileSync(join(dir, "onnx", "vision_model.onnx"), join(dir, "onnx", "text_model.onnx"));
      expect((await loadError(dir)).message).toMatch(
        /text_model\.onnx: has no input named "input_ids" \(it declares: pixel_values\)/,
      );
    });

    it("truncated .onnx", async () => {
      const dir = copyOfModel();
      const path = join(dir, "onnx", "text_model.onnx");
      writeFileSync(path, readFileSync(path).subarray(0, 5000));
      expect((await loadError(dir)).message).toMatch(/text_model\.onnx: cannot be loaded/);
    });
  });
});
