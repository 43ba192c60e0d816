/**
 * The caption bank on disk — one folder, three files (docs/captions.md):
 *   manifest.json   what the bank is, which model and tokenizer made it, how many rows of which width
 *   embeddings.f16  count × dim little-endian float16, row i the unit-length text embedding of caption i
 *   texts.txt       count lines of UTF-8, line i caption i (so captions never contain a line break)
 * The manifest is written last, so a folder with one is complete.
 */

export const BANK_FORMAT = "clip-edge-caption-bank";
export const BANK_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";
export const EMBEDDINGS_FILE = "embeddings.f16";
export const TEXTS_FILE = "texts.txt";
export const BYTES_PER_VALUE = 2;

/** What a bank was built from; the service refuses a bank whose model does not match the one it serves. */
export interface BankModel {
  /** The model folder's id (config `_name_or_path`, else the folder name). */
  id: string;
  /** sha256 of the tokenizer's vocabulary and merges (see fingerprint.ts), whatever files they came from. */
  tokenizerSha256: string;
  /** The text encoder file the embeddings came from; another precision of the same model is accepted. */
  textEncoder: { precision: string; sha256: string };
}

export interface BankManifest {
  format: typeof BANK_FORMAT;
  version: typeof BANK_VERSION;
  model: BankModel;
  dim: number;
  count: number;
  dtype: "f16";
  /** ISO 8601. */
  created: string;
  /** How the corpus became the bank, for the record. */
  corpus?: { file: string; lines: number; duplicates: number; truncated: number };
}

export type ManifestResult = { ok: true; manifest: BankManifest } | { ok: false; message: string };

/**
 * Checks a parsed manifest.json field by field, so a hand-edited or foreign file fails with the field's name.
 *
 * @example parseManifest(JSON.parse(text)) → { ok: false, message: "count must be a positive integer, got 0" }
 */
export function parseManifest(value: unknown): ManifestResult {
  const fail = (message: string): ManifestResult => ({ ok: false, message });
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return fail("is not a JSON object");
  const m = value as Record<string, unknown>;
  if (m.format !== BANK_FORMAT)
    return fail(`format must be "${BANK_FORMAT}", got ${JSON.stringify(m.format)}`);
  if (m.version !== BANK_VERSION)
    return fail(`version ${JSON.stringify(m.version)} is not supported (this build reads ${BANK_VERSION})`);
  if (m.dtype !== "f16") return fail(`dtype must be "f16", got ${JSON.stringify(m.dtype)}`);
  for (const field of ["dim", "count"] as const) {
    const n = m[field];
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n <= 0)
      return fail(`${field} must be a positive integer, got ${JSON.stringify(n)}`);
  }
  const model = m.model as Record<string, unknown> | undefined;
  const encoder = model?.textEncoder as Record<string, unknown> | undefined;
  if (
    typeof model?.id !== "string" ||
    typeof model.tokenizerSha256 !== "string" ||
    typeof encoder?.precision !== "string" ||
    typeof encoder.sha256 !== "string"
  ) {
    return fail("model must be {id, tokenizerSha256, textEncoder: {precision, sha256}}");
  }
  if (typeof m.created !== "string") return fail("created must be an ISO date string");
  return { ok: true, manifest: value as BankManifest };
}

/** Bytes of embeddings.f16 for a bank of this shape. @example embeddingsBytes(1_000_000, 512) === 1_024_000_000 */
export function embeddingsBytes(count: number, dim: number): number {
  return count * dim * BYTES_PER_VALUE;
}
