/**
 * The few protobuf wire-format pieces an ONNX model needs, written without a protobuf library.
 *
 * A message is kept as a list of byte chunks rather than one array: wrapping a message inside another only adds a
 * tag and a length in front, so a gigabyte of tensor data is copied once (into the final buffer), not once per level
 * of nesting.
 */

/** An encoded message (or part of one): chunks in order, and their total length. */
export interface Encoded {
  chunks: Uint8Array[];
  length: number;
}

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const TWO_POW_64 = 1n << 64n;

/**
 * Builds one message field by field, in the order the fields are added.
 *
 * @example
 * const set = new MessageWriter().string(1, "").int(2, 17).finish(); // OperatorSetIdProto { domain: "", version: 17 }
 */
export class MessageWriter {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  /** An int32/int64/enum field. Negative numbers take ten bytes, as int64 two's complement does on the wire. */
  int(field: number, value: number): this {
    this.push(varint(tag(field, WIRE_VARINT)));
    return this.push(varint(value));
  }

  /** A `repeated int64` field, packed (as proto3 and ONNX's packed fields expect; proto2 parsers accept both). */
  packedInts(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const parts = values.map(varint);
    const length = parts.reduce((sum, part) => sum + part.length, 0);
    this.push(varint(tag(field, WIRE_LENGTH_DELIMITED)));
    this.push(varint(length));
    for (const part of parts) this.push(part);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  /** A `bytes` field; the array is referenced, not copied, until the whole message is flattened. */
  bytes(field: number, value: Uint8Array): this {
    this.push(varint(tag(field, WIRE_LENGTH_DELIMITED)));
    this.push(varint(value.length));
    return this.push(value);
  }

  message(field: number, value: Encoded): this {
    this.push(varint(tag(field, WIRE_LENGTH_DELIMITED)));
    this.push(varint(value.length));
    for (const chunk of value.chunks) this.push(chunk);
    return this;
  }

  finish(): Encoded {
    return { chunks: this.chunks, length: this.length };
  }

  private push(chunk: Uint8Array): this {
    this.chunks.push(chunk);
    this.length += chunk.length;
    return this;
  }
}

/** One contiguous buffer, as ONNX Runtime wants a model. @example flatten(new MessageWriter().int(1, 8).finish()) → [8, 8] */
export function flatten(message: Encoded): Uint8Array {
  const out = new Uint8Array(message.length);
  let offset = 0;
  for (const chunk of message.chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function tag(field: number, wireType: number): number {
  return field * 8 + wireType;
}

/** Base-128 varint of a safe integer; negatives as 64-bit two's complement. @example varint(300) → [0xac, 0x02] */
export function varint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new RangeError(`varint: ${value} is not a safe integer`);
  let rest = value < 0 ? BigInt(value) + TWO_POW_64 : BigInt(value);
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Uint8Array.from(bytes);
}
