/**
 * The exact bytes that get signed. Both tiers must build them identically, so this is the one place that
 * knows the layout; change it only together with the `v1` prefix in the signature header.
 */

/** What a caller may pass as a request body; `null`/`undefined` mean "no body" and hash like an empty one. */
export type SignedBody = Uint8Array | ArrayBuffer | string | null | undefined;

const encoder = new TextEncoder();

// Domain-separates our MACs from anything else that might ever be HMAC'd with the same secret.
const CANONICAL_PREFIX = "CLIP-EDGE-HMAC-SHA256-V1";

/**
 * The canonical string for one request.
 *
 * Unambiguous even if `path` contained a newline: the timestamp and method cannot, and the body hash at the
 * end has a fixed length, so the path is whatever lies between them.
 *
 * @example
 * canonicalMessage("1700000000", "post", "/v1/embed?x=1", "e3b0…")
 * // "CLIP-EDGE-HMAC-SHA256-V1\n1700000000\nPOST\n/v1/embed?x=1\ne3b0…"
 */
export function canonicalMessage(
  timestamp: string,
  method: string,
  path: string,
  bodyHashHex: string,
): string {
  // fetch() upper-cases standard methods on the wire, so normalising here keeps "post" and "POST" equal.
  return `${CANONICAL_PREFIX}\n${timestamp}\n${method.toUpperCase()}\n${path}\n${bodyHashHex}`;
}

/**
 * SHA-256 of the body as lowercase hex. Strings are hashed as their UTF-8 bytes.
 *
 * @example
 * await bodyHashHex(null) // "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
 */
export async function bodyHashHex(body: SignedBody): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest("SHA-256", bodyBytes(body))));
}

/**
 * The part of a URL that is signed: path plus query string (so a tampered `?model=` fails verification).
 *
 * @example
 * signedPathOf("https://gpu.internal/v1/embed?dtype=f16#x") // "/v1/embed?dtype=f16"
 */
export function signedPathOf(url: string | URL): string {
  const parsed = typeof url === "string" ? new URL(url) : url;
  return parsed.pathname + parsed.search;
}

function bodyBytes(body: SignedBody): Uint8Array<ArrayBuffer> {
  if (body === null || body === undefined) return new Uint8Array(0);
  // encode() always allocates a fresh ArrayBuffer; some runtime typings just do not say so.
  if (typeof body === "string") return encoder.encode(body) as Uint8Array<ArrayBuffer>;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  // digest() wants an ArrayBuffer-backed view; a SharedArrayBuffer-backed one is copied once.
  if (body.buffer instanceof ArrayBuffer) return body as Uint8Array<ArrayBuffer>;
  return new Uint8Array(body);
}

const HEX_OF_BYTE = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** @example bytesToHex(new Uint8Array([0, 255])) // "00ff" */
export function bytesToHex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += HEX_OF_BYTE[byte] ?? "";
  return out;
}

/**
 * Strict hex decoding (either case, even length); `undefined` for anything else.
 *
 * @example hexToBytes("00Ff") // Uint8Array [0, 255]; hexToBytes("0g") // undefined
 */
export function hexToBytes(hex: string): Uint8Array<ArrayBuffer> | undefined {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
