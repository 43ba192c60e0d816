import { type ClipVocabulary, END_OF_TEXT, END_OF_WORD, START_OF_TEXT } from "./vocabulary.ts";

/**
 * A CLIP vocabulary as the files of a Hugging Face model folder, field for field what `transformers` writes for
 * openai/clip-vit-base-patch32 (its CLIPConverter): `vocab.json`, `merges.txt`, `tokenizer.json`,
 * `tokenizer_config.json` and `special_tokens_map.json`. Transformers.js and the `tokenizers` library read them.
 *
 * @example for (const [name, text] of Object.entries(huggingFaceTokenizerFiles(vocabulary))) writeFile(dir + name, text)
 */
export function huggingFaceTokenizerFiles(
  vocabulary: ClipVocabulary,
  modelMaxLength = 77,
): Record<string, string> {
  const { tokens, merges } = vocabulary;
  const vocab = Object.fromEntries(tokens.map((token, id) => [token, id]));
  const special = (content: string) => ({
    id: tokens.indexOf(content),
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: true,
    special: true,
  });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(START_OF_TEXT), special(END_OF_TEXT)],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "NFC" },
        { type: "Replace", pattern: { Regex: "\\s+" }, content: " " },
        { type: "Lowercase" },
      ],
    },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        {
          type: "Split",
          pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+" },
          behavior: "Removed",
          invert: true,
        },
        { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false },
      ],
    },
    post_processor: {
      type: "RobertaProcessing",
      sep: [END_OF_TEXT, tokens.indexOf(END_OF_TEXT)],
      cls: [START_OF_TEXT, tokens.indexOf(START_OF_TEXT)],
      trim_offsets: false,
      add_prefix_space: false,
    },
    decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: END_OF_TEXT,
      continuing_subword_prefix: "",
      end_of_word_suffix: END_OF_WORD,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([left, right]) => `${left} ${right}`),
    },
  };
  const specialTokens = {
    bos_token: START_OF_TEXT,
    eos_token: END_OF_TEXT,
    pad_token: END_OF_TEXT,
    unk_token: END_OF_TEXT,
  };
  const config = {
    add_prefix_space: false,
    clean_up_tokenization_spaces: true,
    do_lower_case: true,
    errors: "replace",
    model_max_length: modelMaxLength,
    tokenizer_class: "CLIPTokenizer",
    ...specialTokens,
  };
  return {
    "vocab.json": JSON.stringify(vocab),
    "merges.txt": `#version: 0.2\n${merges.map(([left, right]) => `${left} ${right}`).join("\n")}\n`,
    "tokenizer.json": JSON.stringify(tokenizer),
    "tokenizer_config.json": JSON.stringify(config, null, 2),
    "special_tokens_map.json": JSON.stringify(specialTokens, null, 2),
  };
}
