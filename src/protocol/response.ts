/**
 * Batch response frames (GPU → edge). After the 8-byte prefix (see frame.ts), integers little-endian:
 *
 *   8     4      item count n (u32), 1 ≤ n ≤ maxItems
 *   12    4      embedding dimension d (u32), 1 ≤ d ≤ maxDim
 *   16    1      model id length a (1–255)
 *   17    1      preprocessing version length b (1–255)
 *   18    2      reserved, 0
 *   20    a      model id, UTF-8
 *   …     b      preprocessing version, UTF-8
 *   …     n      status per item (ItemStatusCode)
 *   …     n      message length per item (0–255; 0 for ok items)
 *   …     Σ      messages, UTF-8, back to back
 *   …     0–3    zero padding to a multiple of 4
 *   …     k·d·w  embeddings of the k ok items in item order; w = 4 (f32) or 2 (f16 bits)
 */

import { float16ToFloat32, float32ToFloat16 } from "../vector/float16.ts";
import {
  type EmbeddingDtype,
  type FrameError,
  type FrameResult,
  frameError,
  type ItemErrorStatus,
  ItemStatusCode,
  nameOfCode,
} from "./codes.ts";
import {
  dataViewOf,
  decodeUtf8,
  encodeUtf8,
  encodeUtf8Truncated,
  type FrameLimits,
  LITTLE_ENDIAN_HOST,
  openFrame,
  PREFIX_BYTES,
  paddingTo4,
  readFloat32s,
  readUint16s,
  resolveLimits,
  writePrefix,
} from "./frame.ts";

/** An embedding as decoded: float32 values, or float16 bit patterns (see `embeddingToFloat32`). */
export type Embedding = Float32Array | Uint16Array;

export type ResponseItem =
  | { status: "ok"; embedding: Embedding }
  | { status: ItemErrorStatus; message: string };

export interface BatchResponse {
  dtype: EmbeddingDtype;
  dim: number;
  modelId: string;
  preprocessingVersion: string;
  items: ResponseItem[];
}

/** Encoder input: messages are optional, and embeddings of either type are converted to `dtype`. */
export interface BatchResponseInput {
  dtype: EmbeddingDtype;
  dim: number;
  modelId: string;
  preprocessingVersion: string;
  items: readonly ({ status: "ok"; embedding: Embedding } | { status: ItemErrorStatus; message?: string })[];
}

const HEADER_BYTES = PREFIX_BYTES + 12;
/** Messages are for logs and clients, not stack traces; longer ones are cut at a character boundary. */
export const MAX_MESSAGE_BYTES = 255;
const MAX_LABEL_BYTES = 255;

/**
 * Encodes a response into one freshly allocated frame.
 *
 * @example
 * encodeResponse({ dtype: "f16", dim: 512, modelId: "clip-vit-b32", preprocessingVersion: "pp-3",
 *   items: [{ status: "ok", embedding: row0 }, { status: "invalid_image", message: "truncated JPEG" }] })
 */
export function encodeResponse(
  response: BatchResponseInput,
  limits?: Partial<FrameLimits>,
): FrameResult<Uint8Array<ArrayBuffer>> {
  const limit = resolveLimits(limits);
  const { dim, dtype, items } = response;
  if (items.length === 0 || items.length > limit.maxItems) {
    return frameError("invalid_input", `a response needs 1–${limit.maxItems} items, got ${items.length}`);
  }
  if (!Number.isInteger(dim) || dim < 1 || dim > limit.maxDim) {
    return frameError("invalid_input", `dim must be an integer in 1–${limit.maxDim}, got ${dim}`);
  }
  const modelId = encodeUtf8(response.modelId);
  const preprocessing = encodeUtf8(response.preprocessingVersion);
  for (const [name, label] of [
    ["modelId", modelId],
    ["preprocessingVersion", preprocessing],
  ] as const) {
    if (label.length < 1 || label.length > MAX_LABEL_BYTES) {
      return frameError(
        "invalid_input",
        `${name} must be 1–${MAX_LABEL_BYTES} UTF-8 bytes, got ${label.length}`,
      );
    }
  }

  const messages: Uint8Array[] = [];
  let okCount = 0;
  let messageBytes = 0;
  for (const [i, item] of items.entries()) {
    if (!Object.hasOwn(ItemStatusCode, item.status)) {
      return frameError("invalid_input", `item ${i} has unknown status ${JSON.stringify(item.status)}`);
    }
    if (item.status === "ok") {
      if (item.embedding.length !== dim) {
        return frameError("invalid_input", `item ${i} has ${item.embedding.length} values; dim is ${dim}`);
      }
      okCount++;
      messages.push(new Uint8Array(0));
    } else {
      const message = encodeUtf8Truncated(item.message ?? "", MAX_MESSAGE_BYTES);
      messages.push(message);
      messageBytes += message.length;
    }
  }

  const width = dtype === "f32" ? 4 : 2;
  const tableStart = HEADER_BYTES + modelId.length + preprocessing.length;
  const messagesEnd = tableStart + 2 * items.length + messageBytes;
  const dataStart = messagesEnd + paddingTo4(messagesEnd);
  const total = dataStart + okCount * dim * width;
  if (total > limit.maxFrameBytes) {
    return frameError("limit_exceeded", `frame would be ${total} bytes; the limit is ${limit.maxFrameBytes}`);
  }

  const bytes = new Uint8Array(total);
  const view = dataViewOf(bytes);
  writePrefix(view, "response", dtype);
  view.setUint32(PREFIX_BYTES, items.length, true);
  view.setUint32(PREFIX_BYTES + 4, dim, true);
  view.setUint8(PREFIX_BYTES + 8, modelId.length);
  view.setUint8(PREFIX_BYTES + 9, preprocessing.length);
  bytes.set(modelId, HEADER_BYTES);
  bytes.set(preprocessing, HEADER_BYTES + modelId.length);
  let messageAt = tableStart + 2 * items.length;
  for (const [i, item] of items.entries()) {
    const message = messages[i] ?? new Uint8Array(0);
    bytes[tableStart + i] = ItemStatusCode[item.status];
    bytes[tableStart + items.length + i] = message.length;
    bytes.set(message, messageAt);
    messageAt += message.length;
  }

  let row = 0;
  for (const item of items) {
    if (item.status !== "ok") continue;
    const at = dataStart + row * dim * width;
    if (dtype === "f32") writeFloat32s(bytes, at, embeddingToFloat32(item.embedding));
    else writeUint16s(bytes, at, asFloat16Bits(item.embedding));
    row++;
  }
  return { ok: true, value: bytes };
}

/**
 * Decodes a response frame. Never throws. Embeddings are views into `input` when it is suitably aligned
 * (a body from `arrayBuffer()` always is), otherwise copies.
 *
 * @example
 * const decoded = decodeResponse(new Uint8Array(await gpuResponse.arrayBuffer()));
 * if (!decoded.ok) throw new UpstreamError(decoded.code, decoded.message);
 * for (const item of decoded.value.items) if (item.status === "ok") use(embeddingToFloat32(item.embedding));
 */
export function decodeResponse(
  input: Uint8Array | ArrayBuffer,
  limits?: Partial<FrameLimits>,
): FrameResult<BatchResponse> {
  const opened = openFrame(input, limits, HEADER_BYTES, "response");
  if ("ok" in opened) return opened;
  const { bytes, prefix, limit } = opened;

  const view = dataViewOf(bytes);
  const count = view.getUint32(PREFIX_BYTES, true);
  const dim = view.getUint32(PREFIX_BYTES + 4, true);
  const modelIdLength = view.getUint8(PREFIX_BYTES + 8);
  const preprocessingLength = view.getUint8(PREFIX_BYTES + 9);
  if (count === 0) return frameError("malformed_frame", "a response needs at least one item");
  if (count > limit.maxItems)
    return frameError("limit_exceeded", `response has ${count} items; the limit is ${limit.maxItems}`);
  if (dim === 0) return frameError("malformed_frame", "embedding dimension is 0");
  if (dim > limit.maxDim)
    return frameError("limit_exceeded", `dimension ${dim} exceeds the limit of ${limit.maxDim}`);
  if (modelIdLength === 0 || preprocessingLength === 0) {
    return frameError("malformed_frame", "model id and preprocessing version must not be empty");
  }
  if (view.getUint16(PREFIX_BYTES + 10, true) !== 0)
    return frameError("malformed_frame", "reserved bytes must be 0");

  const tableStart = HEADER_BYTES + modelIdLength + preprocessingLength;
  const messagesStart = tableStart + 2 * count;
  if (messagesStart > bytes.length) return truncated(bytes.length, "status table");
  const modelId = decodeUtf8(bytes.subarray(HEADER_BYTES, HEADER_BYTES + modelIdLength));
  const preprocessingVersion = decodeUtf8(bytes.subarray(HEADER_BYTES + modelIdLength, tableStart));
  if (modelId === undefined || preprocessingVersion === undefined) {
    return frameError("malformed_frame", "model id or preprocessing version is not valid UTF-8");
  }

  const statuses: (keyof typeof ItemStatusCode)[] = [];
  let messageBytes = 0;
  for (let i = 0; i < count; i++) {
    const status = nameOfCode(ItemStatusCode, bytes[tableStart + i] ?? 0);
    if (status === undefined)
      return frameError("malformed_frame", `item ${i} has unknown status ${bytes[tableStart + i]}`);
    const messageLength = bytes[tableStart + count + i] ?? 0;
    if (status === "ok" && messageLength !== 0)
      return frameError("malformed_frame", `ok item ${i} carries a message`);
    statuses.push(status);
    messageBytes += messageLength;
  }
  const messagesEnd = messagesStart + messageBytes;
  const dataStart = messagesEnd + paddingTo4(messagesEnd);
  if (dataStart > bytes.length) return truncated(bytes.length, "messages");
  for (let at = messagesEnd; at < dataStart; at++) {
    if (bytes[at] !== 0) return frameError("malformed_frame", "padding before the embeddings must be zero");
  }
  const okCount = statuses.filter((status) => status === "ok").length;
  const width = prefix.dtype === "f32" ? 4 : 2;
  const expected = dataStart + okCount * dim * width;
  if (expected !== bytes.length) {
    return frameError(
      "malformed_frame",
      `frame is ${bytes.length} bytes; ${okCount} embeddings of ${dim} need ${expected}`,
    );
  }

  const values =
    prefix.dtype === "f32"
      ? readFloat32s(bytes, dataStart, okCount * dim)
      : readUint16s(bytes, dataStart, okCount * dim);
  const items: ResponseItem[] = [];
  let messageAt = messagesStart;
  let row = 0;
  for (const [i, status] of statuses.entries()) {
    if (status === "ok") {
      items.push({ status, embedding: values.subarray(row * dim, (row + 1) * dim) });
      row++;
      continue;
    }
    const length = bytes[tableStart + count + i] ?? 0;
    const message = decodeUtf8(bytes.subarray(messageAt, messageAt + length));
    if (message === undefined)
      return frameError("malformed_frame", `message of item ${i} is not valid UTF-8`);
    items.push({ status, message });
    messageAt += length;
  }
  return { ok: true, value: { dtype: prefix.dtype, dim, modelId, preprocessingVersion, items } };
}

/**
 * An embedding as float32, whatever its wire dtype. Float32 input is returned as is (no copy).
 *
 * @example
 * embeddingToFloat32(new Uint16Array([0x3c00, 0xc000])) // Float32Array [1, -2]
 */
export function embeddingToFloat32(embedding: Embedding): Float32Array {
  return embedding instanceof Float32Array ? embedding : float16ToFloat32(embedding);
}

function asFloat16Bits(embedding: Embedding): Uint16Array {
  return embedding instanceof Uint16Array ? embedding : float32ToFloat16(embedding);
}

function writeFloat32s(bytes: Uint8Array, offset: number, values: Float32Array): void {
  if (LITTLE_ENDIAN_HOST) {
    // `bytes` is freshly allocated and `offset` 4-aligned by construction, so a typed view is legal.
    new Float32Array(bytes.buffer, bytes.byteOffset + offset, values.length).set(values);
    return;
  }
  const view = dataViewOf(bytes);
  for (const [i, value] of values.entries()) view.setFloat32(offset + 4 * i, value, true);
}

function writeUint16s(bytes: Uint8Array, offset: number, values: Uint16Array): void {
  if (LITTLE_ENDIAN_HOST) {
    new Uint16Array(bytes.buffer, bytes.byteOffset + offset, values.length).set(values);
    return;
  }
  const view = dataViewOf(bytes);
  for (const [i, value] of values.entries()) view.setUint16(offset + 2 * i, value, true);
}

function truncated(length: number, part: string): FrameError {
  return frameError("malformed_frame", `frame of ${length} bytes ends inside the ${part}`);
}
