/**
 * The inference thread's script with one fault added: a `{ kind: "crash" }` message makes it throw where nothing
 * catches it, so the thread dies as a bug or a failed allocation in it would — between two batches, never inside
 * ONNX Runtime. Load a model with `threadScript: FAULTY_INFERENCE_THREAD` and call `crashInferenceThread`.
 */
import { parentPort } from "node:worker_threads";

parentPort?.on("message", (message: { kind?: string }) => {
  if (message?.kind === "crash") throw new Error("an injected fault: the inference thread dies");
});
await import("../../gpu-service/model/inference-thread-worker.ts");
