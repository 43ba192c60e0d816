/**
 * Runs the pipeline on worker threads. sharp's decode already runs on libuv's threadpool, but our
 * resampler runs on the calling thread (3–6 ms of CPU for a phone photo, in WebAssembly): on the server's
 * main thread that would stall other requests. A pool moves it off the event loop and spreads it over the
 * cores; each worker has its own WebAssembly instance.
 *
 * A batch tensor on a SharedArrayBuffer is written by the workers in place; an ordinary one gets one
 * copy per image (~0.6 MB, microseconds) on the calling thread.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { PreprocessConfig } from "./config.ts";
import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from "./errors.ts";
import type { PreprocessIntoResult, PreprocessOptions, PreprocessResult } from "./pipeline.ts";

export interface PoolTask {
  id: number;
  bytes: Uint8Array;
  config: PreprocessConfig;
  limits: ImageLimits;
  options: PreprocessOptions;
  /** Present when the caller's tensor is shared: the worker writes straight into it. */
  shared?: { buffer: SharedArrayBuffer; byteOffset: number; length: number; offset: number };
}

export type PoolReply =
  | { id: number; result: PreprocessResult | PreprocessIntoResult }
  | { id: number; bug: string };

export interface PreprocessPool {
  preprocessImage(
    bytes: Uint8Array,
    config: PreprocessConfig,
    limits?: ImageLimits,
    options?: PreprocessOptions,
  ): Promise<PreprocessResult>;
  preprocessImageInto(
    bytes: Uint8Array,
    config: PreprocessConfig,
    out: Float32Array,
    offset: number,
    limits?: ImageLimits,
    options?: PreprocessOptions,
  ): Promise<PreprocessIntoResult>;
  close(): Promise<void>;
}

interface Slot {
  worker: Worker;
  pending: Map<
    number,
    { resolve: (r: PreprocessResult | PreprocessIntoResult) => void; reject: (e: Error) => void }
  >;
}

/**
 * @example
 * const pool = createPreprocessPool({ threads: 2 });
 * const r = await pool.preprocessImage(bytes, config); // same result as preprocessImage()
 * await pool.close();
 */
export function createPreprocessPool(opts: { threads?: number } = {}): PreprocessPool {
  const threads = Math.max(1, opts.threads ?? Math.max(1, availableParallelism() - 1));
  const slots: Slot[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Slot {
    const worker = new Worker(new URL("./pool-worker.ts", import.meta.url));
    const slot: Slot = { worker, pending: new Map() };
    worker.on("message", (reply: PoolReply) => {
      const p = slot.pending.get(reply.id);
      if (!p) return;
      slot.pending.delete(reply.id);
      if ("bug" in reply) p.reject(new Error(`image worker: ${reply.bug}`));
      else p.resolve(reply.result);
    });
    // A crashed worker is a bug: fail what it held and replace it, so the pool keeps serving.
    worker.on("error", (err: unknown) => {
      const e = err instanceof Error ? err : new Error(String(err));
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      if (!closed) slots[slots.indexOf(slot)] = spawn();
    });
    return slot;
  }
  for (let i = 0; i < threads; i++) slots.push(spawn());

  function submit(task: Omit<PoolTask, "id">): Promise<PreprocessResult | PreprocessIntoResult> {
    if (closed) return Promise.reject(new Error("preprocess pool is closed"));
    const slot = slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      // The bytes are copied (structured clone): the caller keeps its buffer.
      slot.worker.postMessage({ ...task, id } satisfies PoolTask);
    });
  }

  return {
    preprocessImage(bytes, config, limits = DEFAULT_IMAGE_LIMITS, options = {}) {
      return submit({ bytes, config, limits, options }) as Promise<PreprocessResult>;
    },

    async preprocessImageInto(bytes, config, out, offset, limits = DEFAULT_IMAGE_LIMITS, options = {}) {
      const size = 3 * config.outputWidth * config.outputHeight;
      if (!Number.isInteger(offset) || offset < 0 || offset + size > out.length) {
        throw new RangeError(
          `slot [${offset}, ${offset + size}) does not fit a tensor of ${out.length} floats`,
        );
      }
      if (out.buffer instanceof SharedArrayBuffer) {
        const shared = { buffer: out.buffer, byteOffset: out.byteOffset, length: out.length, offset };
        return (await submit({ bytes, config, limits, options, shared })) as PreprocessIntoResult;
      }
      const r = (await submit({ bytes, config, limits, options })) as PreprocessResult;
      if (!r.ok) return r;
      out.set(r.pixels, offset);
      return { ok: true, info: r.info };
    },

    async close() {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
