/**
 * What request and response frames share: header, limits, byte order, aligned views, UTF-8.
 *
 * Every frame starts with the same 8 bytes (integers little-endian):
 *   0  4  magic "CLIP"
 *   4  1  version (1)
 *   5  1  frame type (FrameTypeCode)
 *   6  1  dtype (EmbeddingDtypeCode)
 *   7  1  flags, 0 in version 1
 */
import {
  type EmbeddingDtype,
  EmbeddingDtypeCode,
  type FrameError,
  type FrameType,
  FrameTypeCode,
  frameError,
  nameOfCode,
} from "./codes.ts";

/** One media type for both directions; the frame type byte says which one a body is. */
export const CONTENT_TYPE = "application/vnd.clip-edge.batch";
export const PROTOCOL_VERSION = 1;
export const MAGIC = new Uint8Array([0x43, 0x4c, 0x49, 0x50]); // "CLIP"
export const PREFIX_BYTES = 8;

export interface FrameLimits {
  /** Items per batch. Default 64. */
  maxItems: number;
  /** Whole frame, checked before anything else is read. Default 32 MiB. */
  maxFrameBytes: number;
  /**
   * Token ids per text. A sanity bound well above any CLIP context (77), so an over-long text reaches the
   * GPU tier and fails alone as `text_too_long` instead of failing the batch. Default 1024.
   */
  maxTokensPerText: number;
  /** Embedding dimension in responses. Default 4096. */
  maxDim: number;
}

export const DEFAULT_LIMITS: Readonly<FrameLimits> = Object.freeze({
  maxItems: 64,
  maxFrameBytes: 32 * 1024 * 1024,
  maxTokensPerText: 1024,
  maxDim: 4096,
});

export function resolveLimits(limits: Partial<FrameLimits> | undefined): FrameLimits {
  return { ...DEFAULT_LIMITS, ...limits };
}

/** Typed arrays use the platform's byte order; the wire is little-endian, so views are only valid on LE hosts. */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface Prefix {
  type: FrameType;
  dtype: EmbeddingDtype;
}

export function writePrefix(view: DataView, type: FrameType, dtype: EmbeddingDtype): void {
  for (let i = 0; i < MAGIC.length; i++) view.setUint8(i, MAGIC[i] ?? 0);
  view.setUint8(4, PROTOCOL_VERSION);
  view.setUint8(5, FrameTypeCode[type]);
  view.setUint8(6, EmbeddingDtypeCode[dtype]);
  view.setUint8(7, 0);
}

/** Validates the 8-byte prefix; the caller has already checked `bytes.length >= PREFIX_BYTES`. */
export function readPrefix(bytes: Uint8Array): Prefix | FrameError {
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) return frameError("malformed_frame", "not a clip-edge frame (bad magic)");
  }
  if (bytes[4] !== PROTOCOL_VERSION) {
    return frameError(
      "unsupported_version",
      `frame version ${bytes[4]}; this build speaks ${PROTOCOL_VERSION}`,
    );
  }
  const type = nameOfCode(FrameTypeCode, bytes[5] ?? 0);
  if (type === undefined) return frameError("malformed_frame", `unknown frame type 0x${hex(bytes[5])}`);
  const dtype = nameOfCode(EmbeddingDtypeCode, bytes[6] ?? 0);
  if (dtype === undefined) return frameError("malformed_frame", `unknown dtype ${bytes[6]}`);
  if (bytes[7] !== 0) return frameError("malformed_frame", `flags must be 0 in version ${PROTOCOL_VERSION}`);
  return { type, dtype };
}

/** Normalises the accepted inputs to one Uint8Array without copying. */
/**
 * The checks every decoder starts with: the whole frame within the size limit, at least its header, a valid prefix
 * of the expected direction. Returns the bytes, the prefix and the resolved limits.
 */
export function openFrame(
  input: Uint8Array | ArrayBuffer,
  limits: Partial<FrameLimits> | undefined,
  headerBytes: number,
  direction: "request" | "response",
): { bytes: Uint8Array; prefix: Prefix; limit: FrameLimits } | FrameError {
  const limit = resolveLimits(limits);
  const bytes = asBytes(input);
  if (bytes.length > limit.maxFrameBytes) {
    return frameError(
      "limit_exceeded",
      `frame is ${bytes.length} bytes; the limit is ${limit.maxFrameBytes}`,
    );
  }
  if (bytes.length < headerBytes) {
    return frameError(
      "malformed_frame",
      `frame is ${bytes.length} bytes; a ${direction} header needs ${headerBytes}`,
    );
  }
  const prefix = readPrefix(bytes);
  if ("ok" in prefix) return prefix;
  if ((prefix.type === "response") !== (direction === "response")) {
    const other = direction === "response" ? "request" : "response";
    return frameError("malformed_frame", `expected a ${direction} frame, got a ${other}`);
  }
  return { bytes, prefix, limit };
}

export function asBytes(input: Uint8Array | ArrayBuffer): Uint8Array {
  return input instanceof Uint8Array ? input : new Uint8Array(input);
}

export function dataViewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * `count` little-endian u32s starting at `offset`: a view into `bytes` when the host is little-endian and
 * the address is 4-aligned, otherwise a copy. The caller has bounds-checked the range.
 */
export function readUint32s(bytes: Uint8Array, offset: number, count: number): Uint32Array {
  const address = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN_HOST && address % 4 === 0) return new Uint32Array(bytes.buffer, address, count);
  const view = dataViewOf(bytes);
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getUint32(offset + 4 * i, true);
  return out;
}

/** Same as {@link readUint32s} for float32 values. */
export function readFloat32s(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const address = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN_HOST && address % 4 === 0) return new Float32Array(bytes.buffer, address, count);
  const view = dataViewOf(bytes);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, true);
  return out;
}

/** Same as {@link readUint32s} for 16-bit values (float16 bit patterns). */
export function readUint16s(bytes: Uint8Array, offset: number, count: number): Uint16Array {
  const address = bytes.byteOffset + offset;
  if (LITTLE_ENDIAN_HOST && address % 2 === 0) return new Uint16Array(bytes.buffer, address, count);
  const view = dataViewOf(bytes);
  const out = new Uint16Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getUint16(offset + 2 * i, true);
  return out;
}

/** Bytes of zero padding that bring `offset` to a multiple of 4. */
export function paddingTo4(offset: number): number {
  return (4 - (offset % 4)) % 4;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** Strict UTF-8 decoding; `undefined` for invalid sequences instead of U+FFFD, so corruption is visible. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function encodeUtf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** UTF-8 of `text`, cut to at most `maxBytes` without splitting a character. */
export function encodeUtf8Truncated(text: string, maxBytes: number): Uint8Array {
  const bytes = utf8Encoder.encode(text);
  if (bytes.length <= maxBytes) return bytes;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the character that would be split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function hex(byte: number | undefined): string {
  return (byte ?? 0).toString(16).padStart(2, "0");
}
