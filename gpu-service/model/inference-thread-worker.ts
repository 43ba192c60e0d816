/**
 * Worker-thread side of inference-thread.ts: loads the model with ClipModel and runs its sessions here, so ONNX
 * Runtime's synchronous `run` (onnxruntime-node calls it on the thread that asked, inside a setImmediate) never holds
 * the service's event loop. One message at a time: a thread has one session run in progress, as the main thread had.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ClipModel, type ClipModelOptions } from "./clip-model.ts";
import type { InferenceReply, InferenceRequest, InferenceThreadStart } from "./inference-thread.ts";
import { ModelFolderError } from "./model-folder.ts";

const port = parentPort;
if (!port) throw new Error("inference-thread-worker.ts must run as a worker thread");
const start = workerData as InferenceThreadStart;

const options: ClipModelOptions = {
  ...start.options,
  log: (message) => port.postMessage({ kind: "log", message } satisfies InferenceReply),
};

try {
  const model = await ClipModel.load(start.dir, options);
  port.on("message", async (request: InferenceRequest) => {
    if (request.kind === "release") {
      await model.release();
      port.postMessage({ kind: "released" } satisfies InferenceReply);
      return;
    }
    try {
      const embeddings =
        request.kind === "images"
          ? await model.embedImages(request.pixels, request.count)
          : await model.embedTexts(request.batch);
      // A copy ORT no longer owns, so it can be transferred rather than cloned.
      const owned = embeddings.slice();
      port.postMessage({ kind: "embeddings", id: request.id, embeddings: owned } satisfies InferenceReply, [
        owned.buffer,
      ]);
    } catch (error) {
      port.postMessage({
        kind: "failed",
        id: request.id,
        message: messageOf(error),
      } satisfies InferenceReply);
    }
  });
  port.postMessage({
    kind: "ready",
    folder: model.folder,
    providers: model.providers,
  } satisfies InferenceReply);
} catch (error) {
  const file = error instanceof ModelFolderError ? error.file : undefined;
  port.postMessage({ kind: "load-failed", message: messageOf(error), file } satisfies InferenceReply);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
