export { float16ToFloat32, float32ToFloat16, roundToFloat16, widenToUnit } from "./float16.ts";
export {
  cosineSimilarity,
  dot,
  ensemble,
  ensembleRows,
  l2Normalize,
  matrixVectorProduct,
  normalizeInPlace,
  normalizeRows,
  softmax,
  topK,
} from "./math.ts";
