import type { ClipEncoders } from "../model/index.ts";

/**
 * Runs each encoder once at every batch size (zeros; texts at full length, then short rows), so no request meets a
 * shape the runtime has not seen: on a GPU, cuDNN picks kernels per shape on first use, seconds each. The service
 * calls it at start-up and on every replacement inference thread before it serves. Stops between runs once `signal`
 * fires (a start-up stopped by SIGTERM).
 */
export async function warmEncoders(
  model: ClipEncoders,
  sizes: readonly number[],
  signal?: AbortSignal,
): Promise<void> {
  const { outputWidth, outputHeight } = model.folder.preprocess;
  for (const size of sizes) {
    if (signal?.aborted) return;
    await model.embedImages(new Float32Array(size * 3 * outputWidth * outputHeight), size);
  }
  for (const size of sizes) {
    for (const length of [model.folder.contextLength, 2]) {
      if (signal?.aborted) return;
      await model.embedTexts({
        ids: new BigInt64Array(size * length),
        count: size,
        length,
        lengths: new Array(size).fill(length),
      });
    }
  }
}
