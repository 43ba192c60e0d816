import { createHash } from "node:crypto";
import type { PreprocessConfig } from "./config.ts";

/**
 * Bump when the pipeline's arithmetic changes, so cached results and reports name the new behaviour. 2: photos whose
 * reduction factor is below 8 (up to ~5.5 MP) take the exact path instead of libvips' cubic pre-reduction.
 */
const IMPLEMENTATION = "pil-exact-2";

/**
 * Names the exact preprocessing: this implementation's version plus a hash of the model's settings. Responses carry
 * it so results are reproducible; the edge's build embeds the same string and checks the GPU tier serves it.
 *
 * @example preprocessingVersion(config) → "pil-exact-2+3fa8c2d91b"
 */
export function preprocessingVersion(config: PreprocessConfig): string {
  return `${IMPLEMENTATION}+${createHash("sha256").update(JSON.stringify(config)).digest("hex").slice(0, 10)}`;
}
