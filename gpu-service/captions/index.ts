/**
 * Captions by retrieval: a bank of caption embeddings made once by the text encoder (tools/captions-build), searched
 * for the captions nearest an image embedding with a small ONNX model built at start-up. See docs/captions.md.
 */

export {
  type BankError,
  type BankErrorCode,
  type CaptionBank,
  CaptionTexts,
  openCaptionBank,
} from "./bank.ts";
export {
  BANK_FORMAT,
  BANK_VERSION,
  type BankManifest,
  type BankModel,
  EMBEDDINGS_FILE,
  embeddingsBytes,
  MANIFEST_FILE,
  parseManifest,
  TEXTS_FILE,
} from "./bank-format.ts";
export { CaptionBankWriter } from "./bank-writer.ts";
export { CaptionFinder, type CaptionFinderOptions, type CaptionHit } from "./caption-finder.ts";
export { fileSha256, tokenizerSha256, vocabularySha256 } from "./fingerprint.ts";
export { checkBankModel, type ServedModel } from "./model-match.ts";
export { type BankRows, buildSearchModel, MAX_INLINE_BYTES, type SearchCompute } from "./search-model.ts";
export { BankSearchSession, type SearchHits, type SearchSessionOptions } from "./search-session.ts";
export { CaptionBankError, DEFAULT_BANK_FOLDER, openCaptionFinder } from "./startup.ts";
