/**
 * Batch request frames (edge → GPU). After the 8-byte prefix (see frame.ts):
 *
 *   8        4    item count n (u32 LE), 1 ≤ n ≤ maxItems
 *   12       4n   per item: image byte length, or text token count (u32 LE)
 *   12+4n    …    images: the encoded image bytes, back to back
 *                 texts:  the token ids (u32 LE), back to back; 4-aligned because 12+4n is
 *
 * The frame must end exactly where the length table says; trailing bytes are malformed.
 */
import { type EmbeddingDtype, type FrameError, type FrameResult, frameError } from "./codes.ts";
import {
  dataViewOf,
  type FrameLimits,
  LITTLE_ENDIAN_HOST,
  openFrame,
  PREFIX_BYTES,
  readUint32s,
  resolveLimits,
  writePrefix,
} from "./frame.ts";

export type BatchRequest =
  | { kind: "images"; dtype: EmbeddingDtype; images: Uint8Array[] }
  | { kind: "texts"; dtype: EmbeddingDtype; texts: Uint32Array[] };

/** What the encoder accepts: token ids may also be plain number arrays (checked to be u32). */
export type BatchRequestInput =
  | { kind: "images"; dtype: EmbeddingDtype; images: readonly Uint8Array[] }
  | { kind: "texts"; dtype: EmbeddingDtype; texts: readonly (Uint32Array | readonly number[])[] };

const HEADER_BYTES = PREFIX_BYTES + 4;
const MAX_U32 = 0xffffffff;

/**
 * Encodes a request into one freshly allocated frame, enforcing the same limits the decoder will.
 *
 * @example
 * const frame = encodeRequest({ kind: "texts", dtype: "f16", texts: [[49406, 320, 2368, 49407]] });
 * if (frame.ok) await fetch(url, { method: "POST", body: frame.value, headers: { "content-type": CONTENT_TYPE } });
 */
export function encodeRequest(
  request: BatchRequestInput,
  limits?: Partial<FrameLimits>,
): FrameResult<Uint8Array<ArrayBuffer>> {
  const limit = resolveLimits(limits);
  const items = request.kind === "images" ? request.images : request.texts;
  const countError = checkItemCount(items.length, limit);
  if (countError) return invalidInput(countError);

  const lengths = items.map((item) => item.length);
  let payloadBytes = 0;
  for (const [i, length] of lengths.entries()) {
    if (request.kind === "texts") {
      if (length > limit.maxTokensPerText) {
        return frameError(
          "limit_exceeded",
          `text ${i} has ${length} tokens; the limit is ${limit.maxTokensPerText}`,
        );
      }
      const text = request.texts[i];
      // A Uint32Array cannot hold anything else; plain numbers could be negative, fractional or too big.
      const badId = text instanceof Uint32Array ? undefined : text?.find((id) => !isUint32(id));
      if (badId !== undefined)
        return frameError("invalid_input", `text ${i} has token id ${badId}, not a u32`);
    }
    payloadBytes += request.kind === "texts" ? 4 * length : length;
  }
  const total = HEADER_BYTES + 4 * items.length + payloadBytes;
  if (total > limit.maxFrameBytes) {
    return frameError("limit_exceeded", `frame would be ${total} bytes; the limit is ${limit.maxFrameBytes}`);
  }

  const bytes = new Uint8Array(total);
  const view = dataViewOf(bytes);
  writePrefix(view, request.kind, request.dtype);
  view.setUint32(PREFIX_BYTES, items.length, true);
  let offset = HEADER_BYTES;
  for (const length of lengths) {
    view.setUint32(offset, length, true);
    offset += 4;
  }
  if (request.kind === "images") {
    for (const image of request.images) {
      bytes.set(image, offset);
      offset += image.length;
    }
  } else if (LITTLE_ENDIAN_HOST) {
    // Fresh buffer and a 4-aligned offset, so the ids can be block-copied.
    const ids = new Uint32Array(bytes.buffer, offset, payloadBytes / 4);
    let at = 0;
    for (const text of request.texts) {
      ids.set(text, at);
      at += text.length;
    }
  } else {
    for (const text of request.texts) {
      for (const id of text) {
        view.setUint32(offset, id, true);
        offset += 4;
      }
    }
  }
  return { ok: true, value: bytes };
}

/**
 * Decodes a request frame. Never throws; every problem is a {@link FrameError}. The returned images and
 * texts are views into `input` where alignment allows, so keep `input` unmodified while they are in use.
 *
 * @example
 * const decoded = decodeRequest(new Uint8Array(await request.arrayBuffer()), { maxItems: 32 });
 * if (!decoded.ok) return c.json({ error: decoded.code, message: decoded.message }, 400);
 * if (decoded.value.kind === "images") await Promise.all(decoded.value.images.map(embedImage));
 */
export function decodeRequest(
  input: Uint8Array | ArrayBuffer,
  limits?: Partial<FrameLimits>,
): FrameResult<BatchRequest> {
  const opened = openFrame(input, limits, HEADER_BYTES, "request");
  if ("ok" in opened) return opened;
  const { bytes, prefix, limit } = opened;

  const view = dataViewOf(bytes);
  const count = view.getUint32(PREFIX_BYTES, true);
  const countError = checkItemCount(count, limit);
  if (countError) return countError;
  const tableEnd = HEADER_BYTES + 4 * count;
  if (tableEnd > bytes.length) {
    return frameError(
      "malformed_frame",
      `frame is ${bytes.length} bytes but its ${count} lengths need ${tableEnd}`,
    );
  }

  const lengths = new Array<number>(count);
  const unit = prefix.type === "texts" ? 4 : 1;
  let end = tableEnd;
  for (let i = 0; i < count; i++) {
    const length = view.getUint32(HEADER_BYTES + 4 * i, true);
    if (prefix.type === "texts" && length > limit.maxTokensPerText) {
      return frameError(
        "limit_exceeded",
        `text ${i} has ${length} tokens; the limit is ${limit.maxTokensPerText}`,
      );
    }
    lengths[i] = length;
    end += unit * length;
    // Checked per item so a lying length is caught before it is used and the running sum stays exact.
    if (end > bytes.length) {
      return frameError("malformed_frame", `item ${i} ends past the end of the ${bytes.length}-byte frame`);
    }
  }
  if (end !== bytes.length) {
    return frameError("malformed_frame", `${bytes.length - end} unexpected bytes after the last item`);
  }

  if (prefix.type === "images") {
    const images: Uint8Array[] = [];
    let offset = tableEnd;
    for (const length of lengths) {
      images.push(bytes.subarray(offset, offset + length));
      offset += length;
    }
    return { ok: true, value: { kind: "images", dtype: prefix.dtype, images } };
  }
  const ids = readUint32s(bytes, tableEnd, (bytes.length - tableEnd) / 4);
  const texts: Uint32Array[] = [];
  let at = 0;
  for (const length of lengths) {
    texts.push(ids.subarray(at, at + length));
    at += length;
  }
  return { ok: true, value: { kind: "texts", dtype: prefix.dtype, texts } };
}

function checkItemCount(count: number, limit: FrameLimits): FrameError | undefined {
  if (count === 0) return frameError("malformed_frame", "a batch needs at least one item");
  if (count > limit.maxItems) {
    return frameError("limit_exceeded", `batch has ${count} items; the limit is ${limit.maxItems}`);
  }
  return undefined;
}

function isUint32(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id <= MAX_U32;
}

function invalidInput(error: FrameError): FrameError {
  // On the encoding side an empty batch is the caller's bug, not a malformed frame.
  return error.code === "malformed_frame" ? frameError("invalid_input", error.message) : error;
}
