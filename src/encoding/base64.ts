// Native Uint8Array base64 (TC39, in workerd and newer V8) when present; atob otherwise.
const native = Uint8Array as unknown as {
  fromBase64?: (
    text: string,
    options?: { alphabet?: "base64" | "base64url"; lastChunkHandling?: "loose" | "strict" },
  ) => Uint8Array;
};
const nativeEncode = (Uint8Array.prototype as unknown as { toBase64?: () => string }).toBase64;

const LINE_BREAKS = /[\r\n]/g;
const STANDARD = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_SAFE = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * Decodes base64 (standard or URL-safe alphabet, padding optional, line breaks ignored as MIME encoders insert them)
 * and refuses anything else, returning `undefined` rather than guessing.
 *
 * @example decodeBase64("aGk=") → Uint8Array [104, 105]; decodeBase64("not base64!") → undefined
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  let clean = text.includes("\n") || text.includes("\r") ? text.replace(LINE_BREAKS, "") : text;
  if (URL_SAFE.test(clean) && !STANDARD.test(clean)) clean = clean.replaceAll("-", "+").replaceAll("_", "/");
  if (!STANDARD.test(clean)) return undefined;
  const unpadded = clean.replace(/=+$/, "");
  if (unpadded.length % 4 === 1) return undefined;
  const padded = unpadded + "=".repeat((4 - (unpadded.length % 4)) % 4);
  if (clean.length !== unpadded.length && clean.length !== padded.length) return undefined;
  if (native.fromBase64) {
    try {
      return native.fromBase64(padded);
    } catch {
      return undefined;
    }
  }
  let binary: string;
  try {
    binary = atob(padded);
  } catch {
    return undefined;
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Standard base64 with padding. @example encodeBase64(Uint8Array.of(104, 105)) === "aGk=" */
export function encodeBase64(bytes: Uint8Array): string {
  if (nativeEncode) return nativeEncode.call(bytes);
  // Where the engine has no toBase64 (Node 24; workerd has it): the characters' codes into bytes, then one native
  // ASCII decode — twice as fast as btoa over a binary string (4 against 8 µs for a 512-d float16 embedding).
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4);
  let at = 0;
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const group = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number);
    out[at++] = ALPHABET[group >>> 18] as number;
    out[at++] = ALPHABET[(group >>> 12) & 63] as number;
    out[at++] = ALPHABET[(group >>> 6) & 63] as number;
    out[at++] = ALPHABET[group & 63] as number;
  }
  if (i < bytes.length) {
    const two = i + 1 < bytes.length;
    const group = ((bytes[i] as number) << 16) | ((two ? (bytes[i + 1] as number) : 0) << 8);
    out[at++] = ALPHABET[group >>> 18] as number;
    out[at++] = ALPHABET[(group >>> 12) & 63] as number;
    out[at++] = two ? (ALPHABET[(group >>> 6) & 63] as number) : PAD;
    out[at++] = PAD;
  }
  return ASCII.decode(out);
}

const ALPHABET = new TextEncoder().encode("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
const PAD = 0x3d; // "="
const ASCII = new TextDecoder();
