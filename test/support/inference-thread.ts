import type { Worker } from "node:worker_threads";
import type { ClipEncoders } from "../../gpu-service/model/index.ts";

/** For `threadScript`: the real inference thread plus a way to make it die (faulty-inference-thread.ts). */
export const FAULTY_INFERENCE_THREAD = new URL("./faulty-inference-thread.ts", import.meta.url);

/** The serving thread of a ThreadedClipModel (private on purpose: no production code may reach it). */
function servingThread(model: ClipEncoders): Worker {
  const worker = (model as unknown as { worker: Worker | undefined }).worker;
  if (!worker) throw new Error("the model has no serving thread");
  return worker;
}

/**
 * Makes a model loaded with `threadScript: FAULTY_INFERENCE_THREAD` lose its thread to an uncaught error, after the
 * messages posted before this one and before any posted after it. Resolves when the thread has exited.
 */
export function crashInferenceThread(model: ClipEncoders): Promise<void> {
  const worker = servingThread(model);
  const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
  worker.postMessage({ kind: "crash" });
  return exited;
}

/**
 * Ends a model's serving thread from outside, as a heap limit would. Only while it is idle (no batch running, e.g.
 * while a batch is still being preprocessed): a thread terminated inside ONNX Runtime aborts the whole process.
 */
export function killInferenceThread(model: ClipEncoders): Promise<number> {
  return servingThread(model).terminate();
}
