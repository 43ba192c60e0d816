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
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk)
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}
