import * as fs from "node:fs/promises";
import { gunzipSync } from "node:zlib";
import {
  ClipTokenizer,
  type ClipTokenizerOptions,
  type ClipVocabulary,
  parseMerges,
  VocabularyError,
  vocabularyFromHuggingFace,
  vocabularyFromMerges,
  vocabularyFromTokenizerJson,
} from "../../src/tokenizer/index.ts";

/**
 * Loads a CLIP tokenizer from disk: a Hugging Face model folder (`vocab.json` + `merges.txt`, else `tokenizer.json`),
 * a `tokenizer.json` or merges file, or OpenAI's `bpe_simple_vocab_16e6.txt.gz`. The Node side of the tokenizer
 * (src/tokenizer/ parses; this reads the files); the Worker bundles its vocabulary instead.
 *
 * @example const tokenizer = await loadClipTokenizer("models/tiny-clip"); tokenizer.encode("a red circle")
 */
export async function loadClipTokenizer(
  path: string,
  options?: ClipTokenizerOptions,
): Promise<ClipTokenizer> {
  return new ClipTokenizer(await loadClipVocabulary(path), options);
}

/** The vocabulary behind {@link loadClipTokenizer}. */
export async function loadClipVocabulary(path: string): Promise<ClipVocabulary> {
  const readText = async (file: string) => new TextDecoder().decode(await fs.readFile(file));
  const exists = async (file: string) =>
    fs.stat(file).then(
      (s) => s.isFile(),
      () => false,
    );
  const stat = await fs.stat(path).catch(() => undefined);
  if (!stat) throw new VocabularyError(`no vocabulary at ${path}`);
  if (stat.isDirectory()) {
    const at = (name: string) => `${path.replace(/\/+$/, "")}/${name}`;
    if ((await exists(at("vocab.json"))) && (await exists(at("merges.txt")))) {
      return vocabularyFromHuggingFace(
        parseJson(await readText(at("vocab.json")), at("vocab.json")),
        await readText(at("merges.txt")),
      );
    }
    if (await exists(at("tokenizer.json"))) {
      return vocabularyFromTokenizerJson(
        parseJson(await readText(at("tokenizer.json")), at("tokenizer.json")),
      );
    }
    throw new VocabularyError(`${path} has neither vocab.json + merges.txt nor tokenizer.json`);
  }
  if (path.endsWith(".json")) return vocabularyFromTokenizerJson(parseJson(await readText(path), path));
  const bytes = await fs.readFile(path);
  const text = new TextDecoder().decode(path.endsWith(".gz") ? gunzipSync(bytes) : bytes);
  return vocabularyFromMerges(parseMerges(text));
}

function parseJson(text: string, file: string): Record<string, number> {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new VocabularyError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}
