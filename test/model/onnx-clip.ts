/**
 * A deliberately thin onnxruntime-node wrapper around a CLIP ONNX folder (onnx/text_model.onnx,
 * onnx/vision_model.onnx), for tests. The GPU tier's own loader will replace it.
 */
import { join } from "node:path";
import * as ort from "onnxruntime-node";

export type OnnxClip = {
  /** Rows of token ids (any padding ≤ the end id) → unnormalised text embeddings, one per row. */
  embedText(rows: readonly ArrayLike<number>[]): Promise<Float32Array[]>;
  /** CLIP-normalised pixels, [n,3,224,224] flattened → unnormalised image embeddings. */
  embedImages(pixels: Float32Array, n: number): Promise<Float32Array[]>;
  release(): Promise<void>;
};

function rows(tensor: ort.Tensor): Float32Array[] {
  const [n, dim] = tensor.dims as [number, number];
  const data = tensor.data as Float32Array;
  return Array.from({ length: n }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

export async function loadOnnxClip(modelDir: string): Promise<OnnxClip> {
  const options: ort.InferenceSession.SessionOptions = { executionProviders: ["cpu"], intraOpNumThreads: 2 };
  const text = await ort.InferenceSession.create(join(modelDir, "onnx", "text_model.onnx"), options);
  const vision = await ort.InferenceSession.create(join(modelDir, "onnx", "vision_model.onnx"), options);
  return {
    async embedText(idRows) {
      const length = Math.max(...idRows.map((r) => r.length));
      const ids = new BigInt64Array(idRows.length * length);
      idRows.forEach((row, i) => {
        for (let j = 0; j < row.length; j++) ids[i * length + j] = BigInt(row[j] as number);
      });
      const out = await text.run({ input_ids: new ort.Tensor("int64", ids, [idRows.length, length]) });
      return rows(out.text_embeds as ort.Tensor);
    },
    async embedImages(pixels, n) {
      const out = await vision.run({ pixel_values: new ort.Tensor("float32", pixels, [n, 3, 224, 224]) });
      return rows(out.image_embeds as ort.Tensor);
    },
    async release() {
      await text.release();
      await vision.release();
    },
  };
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}
