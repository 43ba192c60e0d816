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

async function hashBytes(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
