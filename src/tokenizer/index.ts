import { ClipTokenizer, type ClipTokenizerOptions } from "./clip-tokenizer.ts";
import {
  type ClipVocabulary,
  parseMerges,
  VocabularyError,
  vocabularyFromHuggingFace,
  vocabularyFromMerges,
  vocabularyFromTokenizerJson,
} from "./vocabulary.ts";

export { ClipTokenizer, type TokenizedBatch, type TokenizeOptions } from "./clip-tokenizer.ts";
export { decodeCompactVocabulary, encodeCompactVocabulary } from "./compact-form.ts";
export { type CompiledVocabulary, compileVocabulary } from "./compiled-vocabulary.ts";
export { huggingFaceTokenizerFiles } from "./huggingface-format.ts";
export { cleanText, pretokenize, splitWords } from "./pretokenize.ts";
export * from "./vocabulary.ts";

/**
 * Loads a CLIP tokenizer from disk: a Hugging Face model folder (`vocab.json` + `merges.txt`, else `tokenizer.json`),
 * a `tokenizer.json` or merges file, or OpenAI's `bpe_simple_vocab_16e6.txt.gz`. Needs a host with a Node-style file
 * system (Node, or Workers with nodejs_compat); the Worker itself uses the bundled merges instead.
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
  const fs = hostFileSystem();
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
  const text = path.endsWith(".gz") ? await gunzip(bytes) : new TextDecoder().decode(bytes);
  return vocabularyFromMerges(parseMerges(text));
}

function parseJson(text: string, file: string): Record<string, number> {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new VocabularyError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}

async function gunzip(bytes: Uint8Array): Promise<string> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Response(stream).text();
}

interface HostFileSystem {
  readFile(path: string): Promise<Uint8Array>;
  stat(path: string): Promise<{ isFile(): boolean; isDirectory(): boolean }>;
}

// The core stays free of Node imports: the file system is asked of the host at call time (Node ≥ 22.3 has it).
function hostFileSystem(): HostFileSystem {
  const host = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = host?.getBuiltinModule?.("node:fs/promises") as HostFileSystem | undefined;
  if (!fs)
    throw new VocabularyError("loading a vocabulary from disk needs a host with a file system (Node ≥ 22.3)");
  return fs;
}
