/**
 * Getting a frame off the wire safely: the media type check and a body read that enforces the frame-size
 * limit *while* reading, so a lying or absent Content-Length cannot make us buffer more than the limit.
 */
import { readCapped } from "../streams/read-capped.ts";
import { type FrameError, type FrameResult, frameError } from "./codes.ts";
import { CONTENT_TYPE, DEFAULT_LIMITS } from "./frame.ts";

/**
 * Whether a Content-Type header names our frame format (parameters and case ignored).
 *
 * @example
 * isFrameContentType("Application/vnd.clip-edge.batch; charset=binary") // true
 * isFrameContentType("application/json") // false
 */
export function isFrameContentType(header: string | null | undefined): boolean {
  if (!header) return false;
  const [mediaType = ""] = header.split(";", 1);
  return mediaType.trim().toLowerCase() === CONTENT_TYPE;
}

/** The media-type check as a frame error, for handlers that return early on the first problem. */
export function checkFrameContentType(header: string | null | undefined): FrameError | undefined {
  if (isFrameContentType(header)) return undefined;
  return frameError(
    "unsupported_media_type",
    `expected Content-Type ${CONTENT_TYPE}, got ${header ?? "none"}`,
  );
}

export interface ReadFrameBodyOptions {
  /** Defaults to the protocol's default `maxFrameBytes`. */
  maxBytes?: number;
  /** The Content-Length header, if any: a declared size over the limit is refused before reading. */
  contentLength?: string | null;
}

/**
 * Reads a request or response body into one Uint8Array of at most `maxBytes`, cancelling the stream as
 * soon as it grows past the limit. The result starts at offset 0 of its buffer (so decoded views align),
 * except when the whole body arrived as a single chunk, which is returned without copying.
 *
 * @example
 * const body = await readFrameBody(request.body, { maxBytes: 8 << 20, contentLength: request.headers.get("content-length") });
 * if (!body.ok) return c.json({ error: body.code }, body.code === "limit_exceeded" ? 413 : 400);
 * const frame = decodeRequest(body.value);
 */
export async function readFrameBody(
  body: ReadableStream<Uint8Array> | null | undefined,
  options: ReadFrameBodyOptions = {},
): Promise<FrameResult<Uint8Array>> {
  const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.maxFrameBytes;
  const declared = options.contentLength;
  if (declared !== null && declared !== undefined) {
    if (!/^[0-9]{1,15}$/.test(declared.trim())) {
      return frameError("malformed_frame", `Content-Length ${JSON.stringify(declared)} is not a byte count`);
    }
    if (Number(declared) > maxBytes) {
      // Cancelling tells the runtime it may drop the connection's remaining upload instead of buffering it.
      await body?.cancel("frame too large").catch(() => {});
      return tooLarge(`declared ${Number(declared)} bytes`, maxBytes);
    }
  }
  try {
    const read = await readCapped(body, maxBytes);
    return read.ok
      ? { ok: true, value: read.bytes }
      : tooLarge(`more than ${maxBytes} bytes arrived`, maxBytes);
  } catch (error) {
    return frameError(
      "malformed_frame",
      `body stream failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

function tooLarge(what: string, maxBytes: number): FrameError {
  return frameError("limit_exceeded", `body too large: ${what}; the limit is ${maxBytes}`);
}
