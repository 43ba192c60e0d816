// Synthetic embeddings for the collections benchmark: a mixture of gaussians on the unit sphere, each varying along a
// few directions of its own — closer to a camera roll's CLIP embeddings (groups of similar photos, a low intrinsic
// dimension) than uniform random vectors, whose nearest neighbours are all about equally far.
import { createRng, sampleRng } from "../../shapes-world/index.ts";
import type { Metadata } from "../../src/api/collections.ts";
import { normalizeInPlace } from "../../src/vector/index.ts";

export interface MixtureOptions {
  /** How many groups; their sizes are skewed (a few large, many small), as a photo library's subjects are. */
  clusters: number;
  /**
   * Spread around the centre: a point's cosine to its centre is about 1/√(1 + spread²) (0.71 at 1), two points of
   * one group are about 0.5 apart, of two groups about 0.
   */
  spread: number;
  /**
   * How many directions a group varies along. Real embeddings vary along few (their intrinsic dimension is far below
   * 512), so each point has neighbours clearly nearer than the rest. 0 makes the noise isotropic, in all `dim`
   * directions: then every point of a group is about equally far from a query, the hardest case for an index.
   */
  rank: number;
  seed: number;
}

export interface Mixture {
  dim: number;
  /** Item `index`'s vector: a pure function of (seed, index), so every size holds the smaller ones' items. */
  vector(index: number): Float32Array;
}

/** @example clusteredVectors(512, { clusters: 100, spread: 1, rank: 32, seed: 7 }).vector(0).length === 512 */
export function clusteredVectors(dim: number, options: MixtureOptions): Mixture {
  const rng = createRng(options.seed);
  const unit = () => {
    const v = Float32Array.from({ length: dim }, () => rng.normal());
    normalizeInPlace(v);
    return v;
  };
  const centres = Array.from({ length: options.clusters }, unit);
  // Random unit directions are nearly orthogonal in this many dimensions: a basis in all but name.
  const directions = centres.map(() => Array.from({ length: options.rank }, unit));
  const { spread, rank } = options;
  // With a rank, a little isotropic noise too (1% of the variance), as measurement noise on real embeddings.
  const isotropic = rank > 0 ? (0.1 * spread) / Math.sqrt(dim) : spread / Math.sqrt(dim);
  return {
    dim,
    vector(index) {
      const r = sampleRng(options.seed, index);
      // u² skews the choice towards the first clusters: cluster 0 is ~10× more likely than the median one.
      const u = r.next();
      const cluster = Math.floor(u * u * options.clusters);
      const v = Float32Array.from(centres[cluster] as Float32Array, (c) => c + isotropic * r.normal());
      for (const direction of directions[cluster] as Float32Array[]) {
        const z = (spread * r.normal()) / Math.sqrt(rank);
        for (let i = 0; i < dim; i++) v[i] = (v[i] as number) + z * (direction[i] as number);
      }
      normalizeInPlace(v);
      return v;
    },
  };
}

/** Values of `album`: one in 20, so `{"album": "a07"}` lets about 5% of the items through. */
export const ALBUMS = 20;

/**
 * Item `index`'s metadata, independent of its vector (a filter does not follow the clusters, the hard case for
 * a filtered index scan): `album` (20 values) and `score` uniform in [0, 1).
 */
export function benchMetadata(seed: number, index: number): Metadata {
  const r = sampleRng(seed ^ 0x5bd1e995, index);
  return {
    album: `a${String(r.int(0, ALBUMS - 1)).padStart(2, "0")}`,
    score: Math.round(r.next() * 1e4) / 1e4,
  };
}

/** The benchmark's filters, as the API takes them, with the share of items each lets through. */
export const BENCH_FILTERS = [
  { name: "none", filter: {}, passes: (_: Metadata) => true },
  { name: "5% (album = a07)", filter: { album: "a07" }, passes: (m: Metadata) => m.album === "a07" },
  {
    name: "50% (score < 0.5)",
    filter: { score: { $lt: 0.5 } },
    passes: (m: Metadata) => (m.score as number) < 0.5,
  },
] as const;
