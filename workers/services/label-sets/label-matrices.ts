import { float16ToFloat32, float32ToFloat16, normalizeInPlace } from "../../../src/vector/index.ts";
import { Lru } from "../text-embeddings/lru.ts";

/**
 * Matrices kept decoded in each isolate, per cache (label sets, and policies' concepts). A label set is at most 2,000
 * labels × 768-d × 4 bytes = 6 MiB and a policy's 1,024 concepts 3 MiB, so the two caches hold at most 72 MiB beside the
 * text caches, within a Worker's 128 MB.
 */
export const CACHED_MATRICES = 8;

/** R2 key of a set's (or a policy's) matrix for one model: another model's embeddings never answer for it. */
export const matrixKey = (prefix: string, id: string, model: string) =>
  `${prefix}/v1/${id}/${encodeURIComponent(model)}`;

/**
 * Label sets' ensembled embeddings in R2 (read-after-write consistent everywhere, so a set is usable in every data
 * centre the moment its creation answers), one object per set and model: the rows as little-endian float16, row after
 * row. They are the label embeddings the text path serves, which are already float16 values renormalised, so
 * float16 holds them exactly and a decoded row — renormalised the same way — equals what inline labels give, bit for
 * bit. A bounded isolate cache sits in front.
 */
export class LabelMatrices {
  private readonly bucket: R2Bucket;
  private readonly prefix: string;
  private readonly cache = new Lru<string, Float32Array[]>(CACHED_MATRICES);

  /** `prefix`: the kind of matrix, `label-sets` or `policies` (a moderation policy's concepts). */
  constructor(bucket: R2Bucket, prefix = "label-sets") {
    this.bucket = bucket;
    this.prefix = prefix;
  }

  async put(setId: string, model: string, rows: readonly Float32Array[]): Promise<void> {
    const dim = rows[0]?.length ?? 0;
    const halves = new Uint16Array(rows.length * dim);
    for (const [r, row] of rows.entries()) halves.set(float32ToFloat16(row), r * dim);
    await this.bucket.put(matrixKey(this.prefix, setId, model), halves, {
      customMetadata: { rows: String(rows.length), dim: String(dim), format: "f16le" },
    });
    this.cache.set(matrixKey(this.prefix, setId, model), [...rows]);
  }

  /** The set's rows, or undefined when R2 has none of the expected shape (a set deleted, or never built). */
  async get(setId: string, model: string, rows: number, dim: number): Promise<Float32Array[] | undefined> {
    const key = matrixKey(this.prefix, setId, model);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const object = await this.bucket.get(key);
    if (!object) return undefined;
    const bytes = new Uint8Array(await object.arrayBuffer());
    if (bytes.length !== rows * dim * 2) return undefined;
    // A copy: R2's buffer need not be aligned for a Uint16Array view.
    const halves = new Uint16Array(rows * dim);
    new Uint8Array(halves.buffer).set(bytes);
    const matrix = Array.from({ length: rows }, (_, r) => {
      const row = float16ToFloat32(halves.subarray(r * dim, (r + 1) * dim));
      normalizeInPlace(row);
      return row;
    });
    this.cache.set(key, matrix);
    return matrix;
  }

  /** Deletes the matrices of every model for this id. */
  async deleteAll(id: string): Promise<void> {
    const listed = await this.bucket.list({ prefix: `${this.prefix}/v1/${id}/` });
    for (const object of listed.objects) this.cache.delete(object.key);
    if (listed.objects.length > 0) await this.bucket.delete(listed.objects.map((o) => o.key));
  }

  async delete(setId: string, model: string): Promise<void> {
    this.cache.delete(matrixKey(this.prefix, setId, model));
    await this.bucket.delete(matrixKey(this.prefix, setId, model));
  }
}
