/**
 * KV keys for cached embeddings (the schema is written down in workers/KV-SCHEMA.md). Every key names the model and
 * the vocabulary hash, so a new model or vocabulary never reads an old entry.
 */

const encoder = new TextEncoder();

/** `txt:v1:<model>:<vocab hash>:<sha-256 of the token ids, base64url>` — one text's embedding. */
export async function textKey(modelId: string, vocabularyHash: string, ids: Int32Array): Promise<string> {
  return `txt:v1:${modelId}:${vocabularyHash}:${await hashBytes(new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength))}`;
}

/** `lbl:v1:<model>:<vocab hash>:<sha-256 of templates + label>` — a label's template-ensembled embedding. */
export async function labelKey(
  modelId: string,
  vocabularyHash: string,
  templates: readonly string[],
  label: string,
): Promise<string> {
  return `lbl:v1:${modelId}:${vocabularyHash}:${await hashBytes(encoder.encode(JSON.stringify([templates, label])))}`;
}

/**
 * A text's key inside the isolate (LRU, computations in flight): its token ids as the characters of a string, one
 * UTF-16 unit per id (CLIP's vocabulary, 49,408, fits; a larger id takes a second unit after an escape). Exact, so
 * two texts share a key only when they tokenize alike; never stored, so its length does not matter. The `#` keeps it apart from label keys (`lbl:…`) in the shared LRU.
 *
 * @example idsKey(Int32Array.of(49406, 320, 49407)) // "#\uc11e\u0140\uc11f"
 */
export function idsKey(ids: Int32Array): string {
  let key = "#";
  for (const id of ids)
    key += id < 0xffff ? String.fromCharCode(id) : `\uffff${String.fromCharCode(id >>> 16, id & 0xffff)}`;
  return key;
}

async function hashBytes(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
