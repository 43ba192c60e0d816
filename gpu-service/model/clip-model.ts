import { type InferenceSession, Tensor } from "onnxruntime-node";
import { type ModelFolder, type Precision, readModelFolder } from "./model-folder.ts";
import { type ExecutionProvider, loadSession, type RuntimeOptions } from "./session.ts";

export interface ClipModelOptions extends RuntimeOptions {
  precision?: Precision;
  log?: (message: string) => void;
}

/** Token-id rows for the text encoder: `count` rows of `length` ids each (already padded), row-major. */
export interface TextBatch {
  ids: BigInt64Array;
  count: number;
  length: number;
  /** Per row, how many ids are real; used for the attention mask when an export declares one. */
  lengths: readonly number[];
}

/**
 * What the embedders and routes need of a loaded model: its folder's facts and the two encoders. `ClipModel` runs them
 * on the calling thread; `ThreadedClipModel` (inference-thread.ts) on a thread of their own.
 */
export interface ClipEncoders {
  readonly folder: ModelFolder;
  /** The providers the sessions really run on. */
  readonly providers: ExecutionProvider[];
  readonly embeddingDim: number;
  /** Why the encoders cannot run right now (their thread is being replaced), or undefined when they can. */
  readonly unavailable?: string;
  embedTexts(batch: TextBatch): Promise<Float32Array>;
  /** `pixels` holds `count` preprocessed images, each 3 × imageSize × imageSize. */
  embedImages(pixels: Float32Array, count: number): Promise<Float32Array>;
  release(): Promise<void>;
}

/**
 * A CLIP model folder loaded into two ONNX Runtime sessions. Embeddings come back as they leave the encoders
 * (projected, not normalised), `count × embeddingDim` row-major.
 *
 * @example
 * const model = await ClipModel.load("models/tiny-clip", { providers: ["cpu"] });
 * const images = await model.embedImages(pixels, 1); // pixels: Float32Array of 3 × 224 × 224
 */
export class ClipModel implements ClipEncoders {
  readonly folder: ModelFolder;
  readonly providers: ExecutionProvider[];
  private readonly text: InferenceSession;
  private readonly vision: InferenceSession;
  private readonly textTakesMask: boolean;

  private constructor(
    folder: ModelFolder,
    text: InferenceSession,
    vision: InferenceSession,
    providers: ExecutionProvider[],
  ) {
    this.folder = folder;
    this.text = text;
    this.vision = vision;
    this.providers = providers;
    this.textTakesMask = text.inputNames.includes("attention_mask");
  }

  static async load(dir: string, options: ClipModelOptions): Promise<ClipModel> {
    const log = options.log ?? ((message: string) => console.warn(message));
    const folder = await readModelFolder(dir, { precision: options.precision, onFallback: log });
    const text = await loadSession(
      folder.textModelPath,
      { input: { name: "input_ids", type: "int64" }, output: { name: "text_embeds", type: "float32" } },
      options,
      log,
    );
    const vision = await loadSession(
      folder.visionModelPath,
      { input: { name: "pixel_values", type: "float32" }, output: { name: "image_embeds", type: "float32" } },
      options,
      log,
    );
    return new ClipModel(folder, text.session, vision.session, vision.providers);
  }

  get embeddingDim(): number {
    return this.folder.embeddingDim;
  }

  async embedTexts(batch: TextBatch): Promise<Float32Array> {
    const feeds: Record<string, Tensor> = {
      input_ids: new Tensor("int64", batch.ids, [batch.count, batch.length]),
    };
    if (this.textTakesMask) {
      const mask = new BigInt64Array(batch.count * batch.length);
      for (const [row, length] of batch.lengths.entries())
        mask.fill(1n, row * batch.length, row * batch.length + length);
      feeds.attention_mask = new Tensor("int64", mask, [batch.count, batch.length]);
    }
    const output = await this.text.run(feeds, ["text_embeds"]);
    return this.checked(output.text_embeds, batch.count, "text_embeds");
  }

  /** `pixels` holds `count` preprocessed images, each 3 × imageSize × imageSize. */
  async embedImages(pixels: Float32Array, count: number): Promise<Float32Array> {
    const size = this.folder.imageSize;
    if (pixels.length < count * 3 * size * size)
      throw new RangeError(`embedImages: ${count} images need ${count * 3 * size * size} values`);
    const input = new Tensor("float32", pixels.subarray(0, count * 3 * size * size), [count, 3, size, size]);
    const output = await this.vision.run({ pixel_values: input }, ["image_embeds"]);
    return this.checked(output.image_embeds, count, "image_embeds");
  }

  async release(): Promise<void> {
    await Promise.all([this.text.release(), this.vision.release()]);
  }

  private checked(tensor: Tensor | undefined, count: number, name: string): Float32Array {
    const expected = [count, this.folder.embeddingDim];
    if (tensor?.type !== "float32" || tensor.dims.join() !== expected.join()) {
      throw new Error(
        `${name} has shape [${tensor?.dims}] (${tensor?.type}), expected [${expected}] float32`,
      );
    }
    return tensor.data as Float32Array;
  }
}
