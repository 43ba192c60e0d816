export { ClipEdge, type ClipEdgeOptions } from "./client.ts";
export { DEFAULT_MIN_SHORT_SIDE, type DownsizeOptions, downsizeImage, targetSize } from "./downsize.ts";
export { ClipEdgeError, type ClipEdgeErrorCode } from "./errors.ts";
export type { components, operations, paths } from "./generated/openapi.gen.ts";
export type { ImageSource } from "./images.ts";
export { type CallOptions, isRetryable, retryDelayMs } from "./transport.ts";
export type { Answer, JsonBody, Schemas, WithImages } from "./types.ts";
