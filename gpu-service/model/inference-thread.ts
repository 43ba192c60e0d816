/**
 * The model's sessions on a thread of their own. onnxruntime-node runs a session synchronously on the calling
 * thread: on the event-loop thread a batch holds every request, health check and preprocessing hand-off for as long
 * as it runs (seconds for a ViT-B/32 batch on a CPU; tens of milliseconds on a GPU, every batch). Here the event loop
 * keeps reading requests and feeding the preprocessing workers while a batch runs, which is what lets preprocessing
 * overlap inference at all.
 *
 * Pixels in a SharedArrayBuffer (the batch tensor ImageEmbedder allocates) cross without a copy; embeddings come back
 * transferred.
 */
import { Worker } from "node:worker_threads";
import type { ClipEncoders, ClipModelOptions, TextBatch } from "./clip-model.ts";
import { type ModelFolder, ModelFolderError } from "./model-folder.ts";
import type { ExecutionProvider } from "./session.ts";

/** What the thread is started with: everything of ClipModelOptions but the log callback, which it posts instead. */
export interface InferenceThreadStart {
  dir: string;
  options: Omit<ClipModelOptions, "log">;
}

export type InferenceRequest =
  | { kind: "images"; id: number; pixels: Float32Array; count: number }
  | { kind: "texts"; id: number; batch: TextBatch }
  | { kind: "release" };

export type InferenceReply =
  | { kind: "ready"; folder: ModelFolder; providers: ExecutionProvider[] }
  | { kind: "load-failed"; message: string; file: string | undefined }
  | { kind: "log"; message: string }
  | { kind: "embeddings"; id: number; embeddings: Float32Array }
  | { kind: "failed"; id: number; message: string }
  | { kind: "released" };

interface Pending {
  resolve: (embeddings: Float32Array) => void;
  reject: (error: Error) => void;
}

/**
 * @example
 * const model = await ThreadedClipModel.load("models/tiny-clip", { providers: ["cpu"] });
 * const embeddings = await model.embedImages(pixels, 1); // the event loop stays free while it runs
 */
export class ThreadedClipModel implements ClipEncoders {
  readonly folder: ModelFolder;
  readonly providers: ExecutionProvider[];
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Set once the thread has stopped: every later call fails with it. */
  private stopped: Error | undefined;
  private onReleased: (() => void) | undefined;

  private constructor(worker: Worker, folder: ModelFolder, providers: ExecutionProvider[]) {
    this.worker = worker;
    this.folder = folder;
    this.providers = providers;
  }

  /** Loads `dir` on a new thread; rejects with the same ModelFolderError ClipModel.load would throw. */
  static load(dir: string, options: ClipModelOptions): Promise<ThreadedClipModel> {
    const { log = (message: string) => console.warn(message), ...rest } = options;
    const worker = new Worker(new URL("./inference-thread-worker.ts", import.meta.url), {
      workerData: { dir, options: rest } satisfies InferenceThreadStart,
    });
    return new Promise((resolve, reject) => {
      let model: ThreadedClipModel | undefined;
      worker.on("message", (reply: InferenceReply) => {
        if (reply.kind === "log") log(reply.message);
        else if (reply.kind === "ready") {
          model = new ThreadedClipModel(worker, reply.folder, reply.providers);
          resolve(model);
        } else if (reply.kind === "load-failed") {
          void worker.terminate();
          reject(
            reply.file
              ? new ModelFolderError(reply.file, stripFile(reply.message, reply.file))
              : new Error(reply.message),
          );
        } else model?.settle(reply);
      });
      const stop = (error: Error) => {
        if (model) model.stop(error);
        else reject(error);
      };
      worker.on("error", (error) => stop(error instanceof Error ? error : new Error(String(error))));
      worker.on("exit", (code) => stop(new Error(`the inference thread exited (code ${code})`)));
    });
  }

  get embeddingDim(): number {
    return this.folder.embeddingDim;
  }

  embedImages(pixels: Float32Array, count: number): Promise<Float32Array> {
    const size = this.folder.imageSize;
    if (pixels.length < count * 3 * size * size)
      return Promise.reject(
        new RangeError(`embedImages: ${count} images need ${count * 3 * size * size} values`),
      );
    return this.call((id) => ({
      kind: "images",
      id,
      pixels: pixels.subarray(0, count * 3 * size * size),
      count,
    }));
  }

  embedTexts(batch: TextBatch): Promise<Float32Array> {
    return this.call((id) => ({ kind: "texts", id, batch }));
  }

  async release(): Promise<void> {
    if (this.stopped) return;
    const released = new Promise<void>((resolve) => {
      this.onReleased = resolve;
    });
    this.worker.postMessage({ kind: "release" } satisfies InferenceRequest);
    await released;
    this.stop(new Error("the model was released"));
    await this.worker.terminate();
  }

  private call(request: (id: number) => InferenceRequest): Promise<Float32Array> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A shared tensor is posted as a view on the same memory; an ordinary one is copied, as structured clone does.
      this.worker.postMessage(request(id));
    });
  }

  private settle(reply: InferenceReply): void {
    if (reply.kind === "released") {
      this.onReleased?.();
      return;
    }
    if (reply.kind !== "embeddings" && reply.kind !== "failed") return;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.kind === "embeddings") pending.resolve(reply.embeddings);
    else pending.reject(new Error(reply.message));
  }

  /** The thread is gone (released, or it died): fail what it held and everything asked of it later. */
  private stop(error: Error): void {
    if (this.stopped) return;
    this.stopped = error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

/** ModelFolderError's message is "<file>: <problem>"; the problem alone rebuilds it. */
function stripFile(message: string, file: string): string {
  return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
}
