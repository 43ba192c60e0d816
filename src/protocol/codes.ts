/**
 * Every closed set of the wire protocol, each defined once: the name is what code uses, the number is
 * what travels. Never renumber; a new code needs a new protocol version (old decoders reject unknown ones).
 */

/** Per-item outcome in a response. One bad item gets its own status; the batch still succeeds. */
export const ItemStatusCode = {
  ok: 0,
  /** The bytes are not a decodable image (corrupt, truncated, empty). */
  invalid_image: 1,
  /** A real image in a format we do not accept (e.g. HEIC, animated GIF). */
  unsupported_format: 2,
  /** Too many bytes or pixels for the service's limits. */
  image_too_large: 3,
  /** More tokens than the model's context length. */
  text_too_long: 4,
  /** Empty, or ids outside the model's vocabulary. */
  invalid_tokens: 5,
  /** The model failed on this item; not the caller's fault. */
  internal_error: 6,
} as const;
export type ItemStatus = keyof typeof ItemStatusCode;
export type ItemErrorStatus = Exclude<ItemStatus, "ok">;

/** Embedding element type; the caller picks it in the request and the response echoes it. */
export const EmbeddingDtypeCode = { f32: 1, f16: 2 } as const;
export type EmbeddingDtype = keyof typeof EmbeddingDtypeCode;

/** Frame kinds (header byte 5). Responses have the high bit set so a frame cannot be mistaken for its reply. */
export const FrameTypeCode = { images: 0x01, texts: 0x02, response: 0x81 } as const;
export type FrameType = keyof typeof FrameTypeCode;

/** Every way encoding or decoding can fail. */
export const FrameErrorCode = {
  /** Structure is wrong: bad magic, truncation, lengths that do not add up, unknown codes, bad UTF-8. */
  malformed_frame: "malformed_frame",
  /** Right magic, a version this build does not speak. */
  unsupported_version: "unsupported_version",
  /** Well-formed but over a configured limit (bytes, items, tokens per text, dimension). */
  limit_exceeded: "limit_exceeded",
  /** The Content-Type is not ours. */
  unsupported_media_type: "unsupported_media_type",
  /** Encoder input that cannot be represented (a bug in the caller, reported as a value). */
  invalid_input: "invalid_input",
} as const;
export type FrameErrorCode = (typeof FrameErrorCode)[keyof typeof FrameErrorCode];

export interface FrameError {
  ok: false;
  code: FrameErrorCode;
  message: string;
}

export type FrameResult<T> = { ok: true; value: T } | FrameError;

export function frameError(code: FrameErrorCode, message: string): FrameError {
  return { ok: false, code, message };
}

/** Reverse lookup from wire number to name; `undefined` for numbers outside the closed set. */
export function nameOfCode<T extends Record<string, number>>(codes: T, wire: number): keyof T | undefined {
  for (const name in codes) if (codes[name] === wire) return name;
  return undefined;
}
