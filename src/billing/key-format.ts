/**
 * API keys: `clip_live_` followed by 32 random bytes in base62 (43 characters, so a double-click selects the whole
 * key). The key is shown once, when it is created; only its SHA-256 is stored, and lookups go by that hash.
 */

export const API_KEY_PREFIX = "clip_live_";
const KEY_BYTES = 32;
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** ceil(256 / log2(62)): every 32-byte value fits, shorter ones are left-padded with "0". */
const KEY_CHARS = 43;
const KEY_PATTERN = /^clip_live_[0-9A-Za-z]{43}$/;

/**
 * A new random API key.
 *
 * @example generateApiKey() → "clip_live_4Vd0u5…" (53 characters)
 */
export function generateApiKey(): string {
  return API_KEY_PREFIX + base62(crypto.getRandomValues(new Uint8Array(KEY_BYTES)), KEY_CHARS);
}

/** True when `text` has the shape of a key (it may still be unknown or revoked). */
export function isWellFormedApiKey(text: string): boolean {
  return KEY_PATTERN.test(text);
}

/**
 * The stored form of a key: lowercase hex SHA-256 of the whole key. The database looks keys up by this value, so no
 * comparison ever runs over key material an attacker can steer byte by byte.
 *
 * @example await hashApiKey("clip_live_…") → "9f86d081…" (64 hex characters)
 */
export async function hashApiKey(key: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What lists may show of a key so people can tell their keys apart: the prefix and the last four characters. */
export function keyHint(key: string): string {
  return `${API_KEY_PREFIX}…${key.slice(-4)}`;
}

/** A public, non-secret id for a key record, e.g. "key_3b1f0c9a7e2d4c5b". */
export function newKeyId(): string {
  return `key_${hex(crypto.getRandomValues(new Uint8Array(8)))}`;
}

/** A unique id for a usage record, e.g. "usg_…" (16 random bytes). Request ids come from callers and may repeat. */
export function newUsageRecordId(): string {
  return `usg_${hex(crypto.getRandomValues(new Uint8Array(16)))}`;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function base62(bytes: Uint8Array, width: number): string {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  let out = "";
  while (value > 0n) {
    out = BASE62[Number(value % 62n)] + out;
    value /= 62n;
  }
  return out.padStart(width, "0");
}
