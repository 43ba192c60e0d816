export { float16ToFloat32, float32ToFloat16, roundToFloat16 } from "./float16.ts";
export {
  cosineSimilarity,
  dot,
  ensemble,
  l2Normalize,
  matrixVectorProduct,
  normalizeInPlace,
  normalizeRows,
  softmax,
  topK,
} from "./math.ts";
