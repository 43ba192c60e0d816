/**
 * The caption search as a tiny ONNX model, built at start-up: the bank is an initializer, so ONNX Runtime keeps it
 * where it computes (on the GPU with CUDA: no host → device copy per query), and a query costs one matrix product
 * and one TopK.
 *
 *   queries [Q, D] float32, k [1] int64
 *     → for each bank chunk c (float16 [rows_c, D]):  Gemm(queries, chunk_c, transB) → [Q, rows_c]
 *     → Concat → [Q, N] → TopK(k) → scores [Q, k] float32, indices [Q, k] int64
 *
 * Two compute precisions:
 *  - "f32" (CPU): each chunk is Cast to float32, and the Cast is constant-folded once at session creation. ORT folds
 *    only outputs under 1 GiB, hence the chunks; ORT's x86 CPU float16 Gemm is no faster and needs more scratch.
 *  - "f16" (GPU): the queries are Cast to float16 and the product runs in half precision against the bank as stored
 *    (half the memory, tensor cores); scores are rounded to float16 (~3 significant digits) before TopK.
 */
import { BYTES_PER_VALUE, EMBEDDINGS_FILE } from "./bank-format.ts";
import { encodeModel, type NodeSpec, type TensorSpec } from "./onnx-writer.ts";

export type SearchCompute = "f32" | "f16";

/** Where the float16 rows come from: the bank's file (ONNX external data, any size), or memory (inlined). */
export type BankRows =
  | { kind: "file"; dir: string; count: number; dim: number }
  | { kind: "memory"; halves: Uint16Array; count: number; dim: number };

export interface SearchModel {
  bytes: Uint8Array;
  /** For a file bank: the folder ONNX Runtime resolves the external data in (session config). */
  externalDataFolder: string | undefined;
  chunks: number;
}

/** A protobuf message cannot pass 2 GiB; inlined banks stay well below it, file banks have no limit. */
export const MAX_INLINE_BYTES = 1.5 * 2 ** 30;
/** Chunks stay under ORT's 1 GiB constant-folding limit once cast to float32. */
const CHUNK_FLOAT32_BYTES = 512 * 2 ** 20;
const PAGE_BYTES = 4096;
const FLOAT = 1;
const FLOAT16 = 10;

/**
 * Builds the search model for a bank. `chunkRows` overrides the chunking (tests use it to exercise many chunks).
 *
 * @example
 * const model = buildSearchModel({ kind: "file", dir: "models/tiny-clip/captions", count: 224, dim: 64 }, "f32");
 * await InferenceSession.create(model.bytes, { extra: { session: { model_external_initializers_file_folder_path: model.externalDataFolder } } });
 */
export function buildSearchModel(
  rows: BankRows,
  compute: SearchCompute,
  options: { chunkRows?: number } = {},
): SearchModel {
  const { count, dim } = rows;
  if (rows.kind === "memory") {
    if (rows.halves.length !== count * dim)
      throw new RangeError(
        `buildSearchModel: ${count} × ${dim} rows need ${count * dim} values, got ${rows.halves.length}`,
      );
    if (rows.halves.byteLength > MAX_INLINE_BYTES)
      throw new RangeError(
        `buildSearchModel: ${rows.halves.byteLength} bytes are too many to inline; use a bank folder`,
      );
  }
  const chunkRows = options.chunkRows ?? defaultChunkRows(dim);
  const nodes: NodeSpec[] = [];
  const initializers: TensorSpec[] = [];
  const products: string[] = [];
  const queries = compute === "f16" ? "queries_f16" : "queries";
  if (compute === "f16") nodes.push(cast("queries", queries, FLOAT16));

  for (let start = 0, c = 0; start < count; start += chunkRows, c++) {
    const chunkCount = Math.min(chunkRows, count - start);
    const byteOffset = start * dim * BYTES_PER_VALUE;
    const byteLength = chunkCount * dim * BYTES_PER_VALUE;
    initializers.push({
      name: `bank_${c}`,
      type: "float16",
      dims: [chunkCount, dim],
      data:
        rows.kind === "file"
          ? { kind: "external", location: EMBEDDINGS_FILE, offset: byteOffset, length: byteLength }
          : {
              kind: "raw",
              bytes: new Uint8Array(rows.halves.buffer, rows.halves.byteOffset + byteOffset, byteLength),
            },
    });
    let bank = `bank_${c}`;
    if (compute === "f32") {
      nodes.push(cast(bank, `bank_${c}_f32`, FLOAT));
      bank = `bank_${c}_f32`;
    }
    nodes.push({
      op: "Gemm",
      inputs: [queries, bank],
      outputs: [`similarities_${c}`],
      attributes: [{ name: "transB", int: 1 }],
    });
    products.push(`similarities_${c}`);
  }
  const similarities = products.length === 1 ? (products[0] as string) : "similarities";
  if (products.length > 1)
    nodes.push({
      op: "Concat",
      inputs: products,
      outputs: [similarities],
      attributes: [{ name: "axis", int: 1 }],
    });
  const topScores = compute === "f16" ? "scores_f16" : "scores";
  nodes.push({
    op: "TopK",
    inputs: [similarities, "k"],
    outputs: [topScores, "indices"],
    attributes: [
      { name: "axis", int: -1 },
      { name: "largest", int: 1 },
      { name: "sorted", int: 1 },
    ],
  });
  if (compute === "f16") nodes.push(cast(topScores, "scores", FLOAT));

  const bytes = encodeModel({
    opset: 17,
    producer: "clip-edge caption search",
    graph: {
      name: "caption_search",
      nodes,
      initializers,
      inputs: [
        { name: "queries", type: "float", shape: ["queries", dim] },
        { name: "k", type: "int64", shape: [1] },
      ],
      outputs: [
        { name: "scores", type: "float", shape: ["queries", "k"] },
        { name: "indices", type: "int64", shape: ["queries", "k"] },
      ],
    },
  });
  return { bytes, externalDataFolder: rows.kind === "file" ? rows.dir : undefined, chunks: products.length };
}

/**
 * Rows per chunk: as many as fit CHUNK_FLOAT32_BYTES as float32, a whole number of pages as float16 (so ORT can map
 * them). @example defaultChunkRows(512) === 262_144
 */
export function defaultChunkRows(dim: number): number {
  const rowsPerPage = PAGE_BYTES / gcd(PAGE_BYTES, dim * BYTES_PER_VALUE);
  const rows = Math.floor(CHUNK_FLOAT32_BYTES / (dim * 4));
  return Math.max(rowsPerPage, rows - (rows % rowsPerPage));
}

function cast(input: string, output: string, to: number): NodeSpec {
  return { op: "Cast", inputs: [input], outputs: [output], attributes: [{ name: "to", int: to }] };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
