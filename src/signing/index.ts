/**
 * Edge → GPU request signing: HMAC-SHA256 over timestamp, method, path (with query) and body hash.
 * WebCrypto only, so the same code runs in Workers (signing) and Node (verifying).
 */
export { bodyHashHex, canonicalMessage, type SignedBody, signedPathOf } from "./canonical.ts";
export { checkSecret, MIN_SECRET_BYTES, type SecretCheck } from "./keys.ts";
export { requiresSignature, UNSIGNED_PATHS } from "./routes.ts";
export {
  SIGNATURE_HEADER,
  SIGNATURE_SCHEME,
  type SignatureHeaders,
  type SignRequestInput,
  signRequest,
  TIMESTAMP_HEADER,
} from "./sign.ts";
export {
  DEFAULT_WINDOW_SECONDS,
  type HeaderSource,
  VerifyErrorCode,
  type VerifyRequestInput,
  type VerifyResult,
  verifyRequest,
} from "./verify.ts";
