// The pure tokenizer: parsing vocabularies from their text, and tokenizing. Reading them from disk is the Node
// side's (gpu-service/model/tokenizer-files.ts); the Worker bundles its vocabulary.
export {
  ClipTokenizer,
  type ClipTokenizerOptions,
  type TokenizedBatch,
  type TokenizeOptions,
} from "./clip-tokenizer.ts";
export { decodeCompactVocabulary, encodeCompactVocabulary } from "./compact-form.ts";
export { type CompiledVocabulary, compileVocabulary } from "./compiled-vocabulary.ts";
export { huggingFaceTokenizerFiles } from "./huggingface-format.ts";
export { cleanText, pretokenize, splitWords } from "./pretokenize.ts";
export { fillTemplate, type PromptTokens, TemplatePrompts } from "./template-prompts.ts";
export * from "./vocabulary.ts";
