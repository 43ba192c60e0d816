/**
 * The tiny CLIP folder is a standard Hugging Face / Xenova CLIP ONNX folder: Transformers.js loads it with its
 * Auto classes and agrees with our own tokenizer (ids) and with onnxruntime-node run directly (embeddings).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  AutoProcessor,
  AutoTokenizer,
  CLIPTextModelWithProjection,
  CLIPVisionModelWithProjection,
  env,
  RawImage,
  type Tensor,
} from "@huggingface/transformers";
import { beforeAll, describe, expect, it } from "vitest";
import { ClipModel } from "../../gpu-service/model/index.ts";
import { loadClipTokenizer } from "../../gpu-service/model/tokenizer-files.ts";
import {
  captionBank,
  describeSample,
  PROMPT_TEMPLATES,
  renderShapeSample,
} from "../../shapes-world/index.ts";
import { cosineSimilarity as cosine } from "../../src/vector/index.ts";
import { embedTokenRows, idRows } from "../support/token-rows.ts";

const MODELS = join(import.meta.dirname, "../../models");
const MODEL_DIR = join(MODELS, "tiny-clip");

/** Every bank caption, 300 sampled world captions, the prompt templates and a few arbitrary labels. */
function captionCorpus(): string[] {
  const sampled = Array.from({ length: 300 }, (_, i) => describeSample(77, i, { pairs: "all" }).caption.text);
  const labels = [
    "a photo of a golden retriever.",
    "Ein Foto einer Katze",
    "3 cats & 2 dogs",
    "naïve café",
    "🐱 emoji",
  ];
  return [
    ...captionBank().map((c) => c.text),
    ...sampled,
    ...PROMPT_TEMPLATES.map((t) => t.replace("{}", "red circle")),
    ...labels,
  ];
}

function embeddingRows(tensor: Tensor): Float32Array[] {
  const [n, dim] = tensor.dims as [number, number];
  const data = tensor.data as Float32Array;
  return Array.from({ length: n }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

describe("tiny CLIP through Transformers.js", () => {
  let ours: ClipModel;
  beforeAll(async () => {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = `${MODELS}/`;
    ours = await ClipModel.load(MODEL_DIR, { providers: ["cpu"] });
    return () => ours.release();
  });

  it("config.json is a CLIP config with the learned logit scale", () => {
    const config = JSON.parse(readFileSync(join(MODEL_DIR, "config.json"), "utf8"));
    expect(config.model_type).toBe("clip");
    expect(config.logit_scale).toBeGreaterThan(Math.log(10));
    expect(config.text_config.vocab_size).toBe(
      Object.keys(JSON.parse(readFileSync(join(MODEL_DIR, "vocab.json"), "utf8"))).length,
    );
  });

  it("tokenizes the caption corpus exactly as loadClipTokenizer does", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-clip");
    const ourTokenizer = await loadClipTokenizer(MODEL_DIR);
    for (const text of captionCorpus()) {
      const theirs = idRows(tokenizer(text).input_ids as Tensor)[0];
      expect(theirs, text).toEqual(ourTokenizer.encode(text));
    }
  });

  it("gives the same text embeddings as onnxruntime-node", async () => {
    const tokenizer = await AutoTokenizer.from_pretrained("tiny-clip");
    const model = await CLIPTextModelWithProjection.from_pretrained("tiny-clip", {
      dtype: "fp32",
      device: "cpu",
    });
    const texts = captionBank()
      .filter((_, i) => i % 5 === 0)
      .map((c) => c.text);
    const inputs = tokenizer(texts, { padding: true, truncation: true });
    const { text_embeds } = await model(inputs);
    const direct = await embedTokenRows(ours, idRows(inputs.input_ids as Tensor));
    embeddingRows(text_embeds as Tensor).forEach((row, i) => {
      expect(cosine(row, direct[i] as Float32Array), texts[i]).toBeGreaterThanOrEqual(0.9999);
    });
    await model.dispose();
  });

  it("gives the same image embeddings as onnxruntime-node on the processor's pixel values", async () => {
    const processor = await AutoProcessor.from_pretrained("tiny-clip");
    const model = await CLIPVisionModelWithProjection.from_pretrained("tiny-clip", {
      dtype: "fp32",
      device: "cpu",
    });
    const samples = await Promise.all([0, 1, 2, 3].map((i) => renderShapeSample(4244, i, { pairs: "all" })));
    const images = await Promise.all(
      samples.map((s) => RawImage.fromBlob(new Blob([s.bytes as Uint8Array<ArrayBuffer>], { type: s.mime }))),
    );
    const { pixel_values } = await processor(images);
    expect((pixel_values as Tensor).dims).toEqual([4, 3, 224, 224]);
    const { image_embeds } = await model({ pixel_values });
    const flat = await ours.embedImages((pixel_values as Tensor).data as Float32Array, 4);
    const direct = [0, 1, 2, 3].map((r) => flat.slice(r * ours.embeddingDim, (r + 1) * ours.embeddingDim));
    embeddingRows(image_embeds as Tensor).forEach((row, i) => {
      expect(cosine(row, direct[i] as Float32Array)).toBeGreaterThanOrEqual(0.9999);
    });
    await model.dispose();
  });
});
