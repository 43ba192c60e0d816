/**
 * The model's sessions on a thread of their own. onnxruntime-node runs a session synchronously on the calling
 * thread: on the event-loop thread a batch holds every request, health check and preprocessing hand-off for as long
 * as it runs (seconds for a ViT-B/32 batch on a CPU; tens of milliseconds on a GPU, every batch). Here the event loop
 * keeps reading requests and feeding the preprocessing workers while a batch runs, which is what lets preprocessing
 * overlap inference at all.
 *
 * Pixels in a SharedArrayBuffer (the batch tensor ImageEmbedder allocates) cross without a copy; embeddings come back
 * transferred.
 *
 * A thread that dies (an uncaught error, its heap limit) is replaced: what it held fails with
 * ModelUnavailableError, which the routes answer 503 `not_ready` (retryable; the edge tries another backend), and a
 * new thread loads the same folder, on the same providers, and is warmed (`rewarm`) before it takes calls. Until
 * then calls fail the same way at once and `unavailable` says why, so /readyz takes the instance out of rotation
 * instead of leaving it failing every batch. A native crash (a segfault in ORT, a CUDA abort) ends the process
 * instead: its supervisor restarts it.
 */
import { stat } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { Worker } from "node:worker_threads";
import type { ClipEncoders, ClipModelOptions, TextBatch } from "./clip-model.ts";
import { type ModelFolder, ModelFolderError } from "./model-folder.ts";
import type { ExecutionProvider } from "./session.ts";

/** What the thread is started with: everything of ClipModelOptions but the log callback, which it posts instead. */
export interface InferenceThreadStart {
  dir: string;
  options: Omit<ClipModelOptions, "log">;
  /** The thread's script, when not inference-thread-worker.ts itself (a wrapper that imports it). */
  script?: URL;
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

export interface ThreadedClipModelOptions extends ClipModelOptions {
  /**
   * Runs the batch shapes a replacement thread must have seen before it serves (on a GPU, cuDNN picks kernels per
   * shape on first use, seconds each); called with the new thread's encoders while the instance is still out of
   * rotation. A failure fails the restart, which is tried again.
   */
  rewarm?: (encoders: ClipEncoders) => Promise<void>;
  /**
   * A script to run on the thread instead of inference-thread-worker.ts: a wrapper that imports it and adds to it
   * (test/support/faulty-inference-thread.ts injects a thread's death this way).
   */
  threadScript?: URL;
}

/** The encoders cannot run right now: their thread stopped and a new one is loading. Retry shortly, or elsewhere. */
export class ModelUnavailableError extends Error {
  override name = "ModelUnavailableError";
}

interface Pending {
  resolve: (embeddings: Float32Array) => void;
  reject: (error: Error) => void;
}

interface StartedThread {
  worker: Worker;
  folder: ModelFolder;
  providers: ExecutionProvider[];
  /** The encoder files' sizes and modification times when the thread loaded them. */
  files: string;
}

/** Longest wait between two restarts of a thread that keeps failing; the first restart is immediate. */
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * @example
 * const model = await ThreadedClipModel.load("models/tiny-clip", { providers: ["cpu"] });
 * const embeddings = await model.embedImages(pixels, 1); // the event loop stays free while it runs
 */
export class ThreadedClipModel implements ClipEncoders {
  readonly folder: ModelFolder;
  readonly providers: ExecutionProvider[];
  private readonly start: InferenceThreadStart;
  private readonly log: (message: string) => void;
  private readonly rewarm: ThreadedClipModelOptions["rewarm"];
  /** What a replacement must load to be adopted: the first thread's folder, providers and encoder files. */
  private readonly loaded: string;
  /** The serving thread; undefined while a replacement loads. */
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why calls fail now (the thread died, a restart failed); undefined while a thread serves. */
  private down: ModelUnavailableError | undefined;
  /** Deaths and failed restarts since a thread last answered a call: sets the wait before the next restart. */
  private failures = 0;
  /** Aborted by release: stops a restart that waits or loads. */
  private readonly releasing = new AbortController();
  /** A replacement being warmed: not serving yet, but its death must fail the warm-up's calls. */
  private warming: Worker | undefined;
  /** The restart under way, for release to wait on. */
  private restarting: Promise<void> | undefined;

  private constructor(
    start: InferenceThreadStart,
    log: (message: string) => void,
    rewarm: ThreadedClipModelOptions["rewarm"],
    started: StartedThread,
  ) {
    this.start = start;
    this.log = log;
    this.rewarm = rewarm;
    this.folder = started.folder;
    this.providers = started.providers;
    this.loaded = identity(started);
    this.listen(started.worker);
    this.serve(started.worker);
  }

  /** Loads `dir` on a new thread; rejects with the same ModelFolderError ClipModel.load would throw. */
  static async load(dir: string, options: ThreadedClipModelOptions): Promise<ThreadedClipModel> {
    const { log = (message: string) => console.warn(message), rewarm, threadScript, ...rest } = options;
    const start: InferenceThreadStart = { dir, options: rest, script: threadScript };
    return new ThreadedClipModel(start, log, rewarm, await startThread(start, log));
  }

  get embeddingDim(): number {
    return this.folder.embeddingDim;
  }

  /** Why the encoders cannot run right now, or undefined when they can. */
  get unavailable(): string | undefined {
    return this.down?.message;
  }

  embedImages(pixels: Float32Array, count: number): Promise<Float32Array> {
    return this.embedImagesOn(this.worker, pixels, count);
  }

  embedTexts(batch: TextBatch): Promise<Float32Array> {
    return this.callOn(this.worker, (id) => ({ kind: "texts", id, batch }));
  }

  /** Frees the sessions and ends the thread; a restart under way is stopped, and its thread ended, first. */
  async release(): Promise<void> {
    if (this.releasing.signal.aborted) return;
    this.releasing.abort();
    const worker = this.worker;
    this.worker = undefined;
    this.failPending(new Error("the model was released"));
    await this.restarting;
    if (worker) await retire(worker);
  }

  private embedImagesOn(
    worker: Worker | undefined,
    pixels: Float32Array,
    count: number,
  ): Promise<Float32Array> {
    const size = this.folder.imageSize;
    if (pixels.length < count * 3 * size * size)
      return Promise.reject(
        new RangeError(`embedImages: ${count} images need ${count * 3 * size * size} values`),
      );
    return this.callOn(worker, (id) => ({
      kind: "images",
      id,
      pixels: pixels.subarray(0, count * 3 * size * size),
      count,
    }));
  }

  /** Posts to `worker` (the serving thread, or a replacement being warmed); none: the reason it is down. */
  private callOn(
    worker: Worker | undefined,
    request: (id: number) => InferenceRequest,
  ): Promise<Float32Array> {
    if (this.releasing.signal.aborted) return Promise.reject(new Error("the model was released"));
    if (!worker)
      return Promise.reject(this.down ?? new ModelUnavailableError("the inference thread is being replaced"));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // A shared tensor is posted as a view on the same memory; an ordinary one is copied, as structured clone does.
      worker.postMessage(request(id));
    });
  }

  /** Takes `worker`'s replies and notices its death; it takes calls once `serve` makes it the serving thread. */
  private listen(worker: Worker): void {
    worker.on("message", (reply: InferenceReply) => {
      if (reply.kind === "log") this.log(reply.message);
      else this.settle(reply, worker);
    });
    const lost = (why: string) => this.lost(worker, why);
    worker.on("error", (error) => lost(error instanceof Error ? error.message : String(error)));
    worker.on("exit", (code) => lost(`it exited with code ${code}`));
  }

  private serve(worker: Worker): void {
    this.worker = worker;
    this.down = undefined;
  }

  private settle(reply: InferenceReply, from: Worker): void {
    if (reply.kind !== "embeddings" && reply.kind !== "failed") return;
    // A thread that answers works; the warm-up's answers do not count (the thread may still fail it).
    if (from === this.worker) this.failures = 0;
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    this.pending.delete(reply.id);
    if (reply.kind === "embeddings") pending.resolve(reply.embeddings);
    else pending.reject(new Error(reply.message));
  }

  /** The serving thread died (an 'error' is followed by its 'exit'; the second changes nothing). */
  private lost(worker: Worker, why: string): void {
    if (this.warming === worker) {
      // Only the warm-up's calls are pending on a thread that is not serving yet.
      this.warming = undefined;
      this.failPending(new Error(`the new inference thread stopped while warming up (${why})`));
      return;
    }
    if (this.worker !== worker || this.releasing.signal.aborted) return;
    this.worker = undefined;
    this.failures++;
    this.down = new ModelUnavailableError(`the inference thread stopped (${why}); a new one is loading`);
    this.log(`gpu-service: ${this.down.message}`);
    this.failPending(this.down);
    this.restarting = this.restart().finally(() => {
      this.restarting = undefined;
    });
  }

  /** Starts threads until one is serving or the model is released; waits longer after each failure in a row. */
  private async restart(): Promise<void> {
    const began = performance.now();
    const { signal } = this.releasing;
    while (!signal.aborted) {
      const delayMs =
        this.failures <= 1 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 1000 * 2 ** (this.failures - 2));
      if (delayMs > 0) await sleep(delayMs, undefined, { signal, ref: false }).catch(() => {});
      if (signal.aborted) return;
      try {
        const started = await startThread(this.start, this.log);
        this.listen(started.worker);
        if (signal.aborted) return await retire(started.worker);
        if (identity(started) !== this.loaded) {
          await retire(started.worker);
          throw new Error(
            `it did not load what the first thread did (${this.folder.id}, ${this.folder.precision} on ` +
              `[${this.providers}], the same encoder files): got ${started.folder.id}, ${started.folder.precision} ` +
              `on [${started.providers}]`,
          );
        }
        await this.warmUp(started.worker);
        if (signal.aborted) return await retire(started.worker);
        this.serve(started.worker);
        this.log(
          `gpu-service: a new inference thread serves ${this.folder.id} after ${Math.round(performance.now() - began)} ms`,
        );
        return;
      } catch (error) {
        if (signal.aborted) return;
        this.failures++;
        const message = error instanceof Error ? error.message : String(error);
        this.down = new ModelUnavailableError(
          `the inference thread stopped and could not be restarted (${message}); retrying`,
        );
        this.log(`gpu-service: ${this.down.message}`);
      }
    }
  }

  /** Runs `rewarm` on a replacement before it serves; its death meanwhile fails the warm-up. */
  private async warmUp(worker: Worker): Promise<void> {
    if (!this.rewarm) return;
    this.warming = worker;
    const encoders: ClipEncoders = {
      folder: this.folder,
      providers: this.providers,
      embeddingDim: this.embeddingDim,
      embedImages: (pixels, count) => this.embedImagesOn(this.warming, pixels, count),
      embedTexts: (batch) => this.callOn(this.warming, (id) => ({ kind: "texts", id, batch })),
      release: async () => {},
    };
    try {
      await this.rewarm(encoders);
    } catch (error) {
      await retire(worker);
      throw error;
    } finally {
      this.warming = undefined;
    }
  }

  private failPending(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

/**
 * Ends a thread that is not serving calls: it frees its sessions first, then goes. Never `terminate()` alone on a
 * thread that may be inside ONNX Runtime (a load, a batch): a native call that meets a terminating JS engine throws
 * where nothing catches it, and that aborts the whole process.
 */
async function retire(worker: Worker): Promise<void> {
  if (worker.threadId === -1) return; // already exited
  await new Promise<void>((resolve) => {
    worker.on("message", (reply: InferenceReply) => {
      if (reply.kind === "released") resolve();
    });
    worker.once("exit", () => resolve());
    worker.postMessage({ kind: "release" } satisfies InferenceRequest);
  });
  await worker.terminate();
}

/**
 * A new thread with the model loaded: resolves on its "ready", rejects on "load-failed" (a ModelFolderError when a
 * file is to blame) or when it dies first. Its log lines go to `log` until the caller attaches its own listeners.
 */
function startThread(start: InferenceThreadStart, log: (message: string) => void): Promise<StartedThread> {
  const { script, ...data } = start; // a URL does not cross to a thread
  const worker = new Worker(script ?? new URL("./inference-thread-worker.ts", import.meta.url), {
    workerData: data,
  });
  return new Promise((resolve, reject) => {
    const onMessage = (reply: InferenceReply) => {
      if (reply.kind === "log") log(reply.message);
      else if (reply.kind === "ready") {
        detach();
        filesOf(reply.folder).then(
          (files) => resolve({ worker, folder: reply.folder, providers: reply.providers, files }),
          (error: unknown) => {
            void retire(worker);
            reject(error);
          },
        );
      } else if (reply.kind === "load-failed") {
        detach();
        void worker.terminate();
        reject(
          reply.file
            ? new ModelFolderError(reply.file, stripFile(reply.message, reply.file))
            : new Error(reply.message),
        );
      }
    };
    const onError = (error: unknown) => {
      detach();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    const onExit = (code: number) =>
      onError(new Error(`the inference thread exited (code ${code}) while loading`));
    const detach = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}

/**
 * What a restarted thread must match to be adopted: embeddings of another model, or of a folder re-pulled in place
 * under the same id, would be served as the first one's without a word; a GPU thread come back on the CPU would
 * serve at a fraction of the speed while the instance looked healthy.
 */
function identity(started: StartedThread): string {
  return JSON.stringify([started.folder, started.providers, started.files]);
}

/** The encoder files' sizes and modification times: a re-pull in place changes them (hashing 600 MB would not pay). */
async function filesOf(folder: ModelFolder): Promise<string> {
  const stats = await Promise.all([folder.textModelPath, folder.visionModelPath].map((path) => stat(path)));
  return stats.map((s) => `${s.size}@${Math.trunc(s.mtimeMs)}`).join(",");
}

/** ModelFolderError's message is "<file>: <problem>"; the problem alone rebuilds it. */
function stripFile(message: string, file: string): string {
  return message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
}
