/**
 * A complete but meaningless CLIP model folder for tests that must run without a trained model: the real folder
 * layout, tokenizer files and encoder signatures, with two tiny ONNX graphs written by onnx-writer.ts.
 *   text:   input_ids [B, L] → sum of a random vector per token (id 0, the padding, adds nothing) → text_embeds [B, D]
 *   vision: pixel_values [B, 3, S, S] → mean colour → affine map → image_embeds [B, D]
 * Texts sharing words have similar embeddings, and images of different colours different ones; nothing more.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { encodeModel } from "../../gpu-service/captions/onnx-writer.ts";
import { huggingFaceTokenizerFiles } from "../../src/tokenizer/index.ts";
import { testVocabulary } from "./test-vocabulary.ts";

export interface FakeClipModel {
  dir: string;
  id: string;
  dim: number;
  contextLength: number;
}

const WORDS = ["a", "photo", "of", "the", "red", "blue", "green", "circle", "square", "star", "two", "three"];
const IMAGE_SIZE = 32;

/**
 * Writes the folder. `seed` changes the weights (and so the text encoder's hash), as retraining would.
 *
 * @example const model = await writeFakeClipModel(join(tmp, "fake-clip")); await ClipModel.load(model.dir, { providers: ["cpu"] })
 */
export async function writeFakeClipModel(
  dir: string,
  options: { dim?: number; seed?: number; id?: string } = {},
): Promise<FakeClipModel> {
  const dim = options.dim ?? 16;
  const contextLength = 16;
  const id = options.id ?? "fake-clip";
  const vocabulary = testVocabulary(WORDS);
  const random = seeded(options.seed ?? 1);
  await mkdir(join(dir, "onnx"), { recursive: true });

  const config = {
    _name_or_path: id,
    model_type: "clip",
    projection_dim: dim,
    logit_scale: Math.log(100),
    text_config: { max_position_embeddings: contextLength, vocab_size: vocabulary.tokens.length },
    vision_config: { image_size: IMAGE_SIZE },
  };
  const preprocessor = {
    do_resize: true,
    size: { shortest_edge: IMAGE_SIZE },
    resample: 3,
    do_center_crop: true,
    crop_size: { height: IMAGE_SIZE, width: IMAGE_SIZE },
    do_rescale: true,
    rescale_factor: 1 / 255,
    do_normalize: true,
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_std: [0.26862954, 0.26130258, 0.27577711],
    do_convert_rgb: true,
  };
  const files: Record<string, string> = {
    ...huggingFaceTokenizerFiles(vocabulary, contextLength),
    "config.json": JSON.stringify(config, null, 2),
    "preprocessor_config.json": JSON.stringify(preprocessor, null, 2),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);

  const table = Float32Array.from({ length: vocabulary.tokens.length * dim }, (_, i) =>
    i < dim ? 0 : random(),
  );
  await writeFile(join(dir, "onnx", "text_model.onnx"), textModel(table, dim));
  const weights = Float32Array.from({ length: 3 * dim }, random);
  const bias = Float32Array.from({ length: dim }, random);
  await writeFile(join(dir, "onnx", "vision_model.onnx"), visionModel(weights, bias, dim));
  return { dir, id, dim, contextLength };
}

function textModel(table: Float32Array, dim: number): Uint8Array {
  return encodeModel({
    opset: 17,
    graph: {
      name: "fake_text_encoder",
      nodes: [
        {
          op: "Gather",
          inputs: ["table", "input_ids"],
          outputs: ["tokens"],
          attributes: [{ name: "axis", int: 0 }],
        },
        {
          op: "ReduceSum",
          inputs: ["tokens", "axes"],
          outputs: ["text_embeds"],
          attributes: [{ name: "keepdims", int: 0 }],
        },
      ],
      initializers: [
        {
          name: "table",
          type: "float",
          dims: [table.length / dim, dim],
          data: { kind: "raw", bytes: bytes(table) },
        },
        {
          name: "axes",
          type: "int64",
          dims: [1],
          data: { kind: "raw", bytes: new Uint8Array(BigInt64Array.of(1n).buffer) },
        },
      ],
      inputs: [{ name: "input_ids", type: "int64", shape: ["batch", "sequence"] }],
      outputs: [{ name: "text_embeds", type: "float", shape: ["batch", dim] }],
    },
  });
}

function visionModel(weights: Float32Array, bias: Float32Array, dim: number): Uint8Array {
  return encodeModel({
    opset: 17,
    graph: {
      name: "fake_vision_encoder",
      nodes: [
        {
          op: "ReduceMean",
          inputs: ["pixel_values"],
          outputs: ["colour"],
          attributes: [
            { name: "axes", ints: [2, 3] },
            { name: "keepdims", int: 0 },
          ],
        },
        { op: "Gemm", inputs: ["colour", "weights", "bias"], outputs: ["image_embeds"] },
      ],
      initializers: [
        { name: "weights", type: "float", dims: [3, dim], data: { kind: "raw", bytes: bytes(weights) } },
        { name: "bias", type: "float", dims: [dim], data: { kind: "raw", bytes: bytes(bias) } },
      ],
      inputs: [{ name: "pixel_values", type: "float", shape: ["batch", 3, IMAGE_SIZE, IMAGE_SIZE] }],
      outputs: [{ name: "image_embeds", type: "float", shape: ["batch", dim] }],
    },
  });
}

function bytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function seeded(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32 - 0.5;
  };
}
