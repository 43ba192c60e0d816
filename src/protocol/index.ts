/**
 * The clip-edge batch wire protocol: one binary media type, a magic and a version byte, request frames
 * (images or token ids) and response frames (embeddings plus per-item status). Layouts are documented at
 * the top of request.ts and response.ts; every encoder and decoder returns errors as values.
 */
export {
  checkFrameContentType,
  isFrameContentType,
  type ReadFrameBodyOptions,
  readFrameBody,
} from "./body.ts";
export {
  type EmbeddingDtype,
  EmbeddingDtypeCode,
  type FrameError,
  FrameErrorCode,
  type FrameResult,
  type ItemErrorStatus,
  type ItemStatus,
  ItemStatusCode,
} from "./codes.ts";
export {
  type Box,
  cellBounds,
  EXPLAIN_GEOMETRY_HEADER,
  HeatmapRequest,
  MAX_EXPLAIN_GRID,
  MAX_HEATMAP_SIDE,
  MAX_OCCLUSION_ITEMS,
  MIN_EXPLAIN_GRID,
  OCCLUDER,
  type OcclusionCell,
  OcclusionGeometry,
  occlusionCells,
  parseExplainGrid,
  parseOcclusionGeometry,
} from "./explain.ts";
export { CONTENT_TYPE, DEFAULT_LIMITS, type FrameLimits, PROTOCOL_VERSION } from "./frame.ts";
export {
  DEFAULT_CAPTION_TOP_K,
  GPU_PROBLEM_STATUS,
  GpuCaptionResult,
  GpuCaptionsReply,
  type GpuProblem,
  type GpuProblemCode,
  MAX_CAPTION_TOP_K,
  parseGpuCaptionsReply,
  parseGpuProblem,
} from "./gpu-replies.ts";
export { type BatchRequest, type BatchRequestInput, decodeRequest, encodeRequest } from "./request.ts";
export {
  type BatchResponse,
  type BatchResponseInput,
  decodeResponse,
  type Embedding,
  embeddingToFloat32,
  encodeResponse,
  MAX_MESSAGE_BYTES,
  type ResponseItem,
} from "./response.ts";
