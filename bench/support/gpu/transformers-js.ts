/**
 * Transformers.js in-process on the same model folder: its own processor (sharp decode at full size, its resize,
 * crop and normalisation) and CLIPVisionModelWithProjection, at the best batch size of a small sweep. The baseline the
 * service's images/s are compared with.
 */
import { basename, dirname } from "node:path";
import { AutoProcessor, CLIPVisionModelWithProjection, env, RawImage } from "@huggingface/transformers";
import { throughput } from "../throughput.ts";
import type { Workload } from "./workloads.ts";

export interface TransformersJsRun {
  /** images/s at each batch size tried. */
  byBatch: Map<number, number>;
  best: { batch: number; rate: number };
}

type Dtype = "fp32" | "fp16" | "q8";

/** Loads `modelDir` with `dtype` once and measures every workload at every batch size. */
export async function measureTransformersJs(
  modelDir: string,
  dtype: Dtype,
  workloads: Workload[],
  batches: readonly number[],
  seconds: number,
): Promise<Map<Workload, TransformersJsRun>> {
  env.allowRemoteModels = false;
  env.localModelPath = `${dirname(modelDir)}/`;
  const processor = await AutoProcessor.from_pretrained(basename(modelDir));
  const vision = await CLIPVisionModelWithProjection.from_pretrained(basename(modelDir), { dtype });
  const runs = new Map<Workload, TransformersJsRun>();
  for (const workload of workloads) {
    const byBatch = new Map<number, number>();
    for (const batch of batches) {
      const call = async (i: number) => {
        const images = await Promise.all(
          Array.from({ length: batch }, (_, k) => {
            const bytes = workload.images[
              (i * batch + k) % workload.images.length
            ] as Uint8Array<ArrayBuffer>;
            return RawImage.fromBlob(new Blob([bytes]));
          }),
        );
        await vision(await processor(images));
      };
      await call(0);
      byBatch.set(batch, await throughput(seconds, 1, batch, call));
    }
    const [batch, rate] = [...byBatch].reduce((a, b) => (b[1] > a[1] ? b : a));
    runs.set(workload, { byBatch, best: { batch, rate } });
  }
  await vision.dispose();
  return runs;
}
