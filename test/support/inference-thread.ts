import type { Worker } from "node:worker_threads";
import type { ClipEncoders } from "../../gpu-service/model/index.ts";

/**
 * Kills a ThreadedClipModel's serving thread from outside, as a fatal error or a heap limit would: the fault its
 * restart exists for. Reaches the private field on purpose (no production code offers a way to kill it).
 */
export function killInferenceThread(model: ClipEncoders): Promise<number> {
  const worker = (model as unknown as { worker: Worker | undefined }).worker;
  if (!worker) throw new Error("the model has no serving thread to kill");
  return worker.terminate();
}
