import { InferenceSession, Tensor } from "onnxruntime-node";
import type { ExecutionProvider } from "../model/index.ts";
import { type BankRows, buildSearchModel, type SearchCompute } from "./search-model.ts";

/** The best `k` rows per query, best first: `scores[q * k + j]` is a cosine similarity, `indices[...]` its row. */
export interface SearchHits {
  queries: number;
  k: number;
  scores: Float32Array;
  indices: Int32Array;
}

export interface SearchSessionOptions {
  /** In order of preference, as the model's sessions got them; `cpu` listed allows a logged fallback. */
  providers: readonly ExecutionProvider[];
  intraOpThreads?: number;
  /** Defaults by provider: "f16" on a GPU, "f32" on the CPU. */
  compute?: SearchCompute;
  chunkRows?: number;
  log?: (message: string) => void;
}

/**
 * Nearest-row search over a caption bank with ONNX Runtime (see search-model.ts for the graph).
 *
 * @example
 * const search = await BankSearchSession.create({ kind: "file", dir, count, dim }, { providers: ["cpu"] });
 * const hits = await search.search(imageEmbeddings, 2, 5); // 2 queries → 2 × 5 scores and indices
 */
export class BankSearchSession {
  readonly count: number;
  readonly dim: number;
  readonly compute: SearchCompute;
  readonly providers: readonly ExecutionProvider[];
  private readonly session: InferenceSession;

  private constructor(
    session: InferenceSession,
    rows: BankRows,
    compute: SearchCompute,
    providers: readonly ExecutionProvider[],
  ) {
    this.session = session;
    this.count = rows.count;
    this.dim = rows.dim;
    this.compute = compute;
    this.providers = providers;
  }

  static async create(rows: BankRows, options: SearchSessionOptions): Promise<BankSearchSession> {
    const log = options.log ?? ((message: string) => console.warn(message));
    // TensorRT would build an engine around a gigabyte-sized constant for no gain; CUDA runs this graph as well.
    const providers = options.providers.filter((p) => p !== "tensorrt");
    if (providers.length === 0) providers.push("cuda");
    const onGpu = providers[0] !== "cpu";
    const compute = options.compute ?? (onGpu ? "f16" : "f32");
    try {
      return new BankSearchSession(await open(rows, compute, providers, options), rows, compute, providers);
    } catch (error) {
      if (!(onGpu && providers.includes("cpu"))) throw error;
      log(`WARNING: caption search on [${providers}] failed (${firstLine(error)}); falling back to the CPU`);
      return new BankSearchSession(await open(rows, "f32", ["cpu"], options), rows, "f32", ["cpu"]);
    }
  }

  /**
   * `queries` holds `count` unit-length rows of `dim` values. `k` is clamped to the bank size; 0 queries answer
   * nothing without running the model.
   */
  async search(queries: Float32Array, count: number, k: number): Promise<SearchHits> {
    const wanted = Math.min(Math.max(1, Math.floor(k)), this.count);
    if (queries.length < count * this.dim)
      throw new RangeError(`search: ${count} queries need ${count * this.dim} values, got ${queries.length}`);
    if (count === 0)
      return { queries: 0, k: wanted, scores: new Float32Array(0), indices: new Int32Array(0) };
    const output = await this.session.run({
      queries: new Tensor("float32", queries.subarray(0, count * this.dim), [count, this.dim]),
      k: new Tensor("int64", BigInt64Array.of(BigInt(wanted)), [1]),
    });
    const scores = output.scores?.data as Float32Array;
    const indices = output.indices?.data as BigInt64Array;
    if (scores?.length !== count * wanted || indices?.length !== count * wanted)
      throw new Error(`search: expected ${count} × ${wanted} results, got ${scores?.length}`);
    return { queries: count, k: wanted, scores, indices: Int32Array.from(indices, Number) };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

async function open(
  rows: BankRows,
  compute: SearchCompute,
  providers: readonly ExecutionProvider[],
  options: SearchSessionOptions,
): Promise<InferenceSession> {
  const model = buildSearchModel(rows, compute, { chunkRows: options.chunkRows });
  const session: Record<string, string> = {
    // Gemm would otherwise keep a prepacked copy of every chunk beside the chunk itself: 2× the memory.
    disable_prepacking: "1",
  };
  if (model.externalDataFolder)
    session.model_external_initializers_file_folder_path = model.externalDataFolder;
  return InferenceSession.create(model.bytes, {
    executionProviders: [...providers],
    // Constant folding (a basic optimisation) is what turns the float16 chunks into float32 ones once.
    graphOptimizationLevel: "basic",
    ...(options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : {}),
    extra: { session },
  });
}

function firstLine(error: unknown): string {
  return String((error as Error)?.message ?? error).split("\n")[0] ?? "unknown error";
}
