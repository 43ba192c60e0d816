import { ClipModel } from "../../gpu-service/model/index.ts";
import type { Precision } from "../../gpu-service/model/model-folder.ts";
import { throughput } from "./throughput.ts";

export interface BareSessionOptions {
  /** Images per run call; the service's batcher sizes are 1–64. */
  batch?: number;
  seconds?: number;
  /** ORT's intra-op threads; unset, ORT takes one per core, as the service does without ORT_INTRA_OP_THREADS. */
  threads?: number;
}

/**
 * Images/s of the vision encoder alone at `precision` (its ONNX session on the CPU, no decoding, no HTTP): the
 * ceiling the GPU tier's precision choice sets on this machine. Pixels are fixed pseudo-random values, since the
 * run time of these graphs does not depend on what the image shows. Throws when the folder has no such variant
 * rather than measuring fp32 under another name.
 *
 * @example await bareVisionRate("models/standin-vit-b-32", "quantized", { threads: 1 }) // ≈ 25 (fp32 ≈ 9.5), 1 core
 */
export async function bareVisionRate(
  dir: string,
  precision: Precision,
  options: BareSessionOptions = {},
): Promise<number> {
  const { batch = 8, seconds = 5, threads } = options;
  const model = await ClipModel.load(dir, {
    providers: ["cpu"],
    precision,
    ...(threads ? { intraOpThreads: threads } : {}),
    log: () => {},
  });
  try {
    if (model.folder.precision !== precision) throw new Error(`${dir} has no ${precision} encoders`);
    const size = model.folder.imageSize;
    const pixels = pseudoRandomPixels(batch * 3 * size * size);
    await model.embedImages(pixels, batch); // the first run allocates ORT's buffers; keep it out of the rate
    return await throughput(seconds, 1, batch, () => model.embedImages(pixels, batch));
  } finally {
    await model.release();
  }
}

// Values in roughly the normalised pixel range (about ±2), from a fixed linear congruential sequence.
function pseudoRandomPixels(length: number): Float32Array {
  const out = new Float32Array(length);
  let state = 0x2545f491;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * 4 - 2;
  }
  return out;
}
