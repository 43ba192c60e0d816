export * from "./billing-reports.ts";
export { DOCS_BASE, ERROR_CODES, type ErrorCode, Problem, problemFor } from "./errors.ts";
export { EXAMPLE_IMAGE_BASE64, EXAMPLES } from "./examples.ts";
export { API_LIMITS, DEFAULT_TEMPLATES } from "./limits.ts";
export * from "./requests.ts";
export * from "./responses.ts";
export { recommendedUpload, UPLOAD_SHORT_SIDE_FACTOR } from "./upload.ts";
