export { DOCS_BASE, ERROR_CODES, type ErrorCode, type Problem, problemFor } from "./errors.ts";
export { API_LIMITS, DEFAULT_TEMPLATES } from "./limits.ts";
export * from "./schemas.ts";
