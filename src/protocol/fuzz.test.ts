/**
 * Hostile input: random bytes, truncations, bit flips and overwritten fields of valid frames. Every decode
 * must return either a clean error value or a frame that re-encodes to exactly the same bytes (so a
 * "successful" decode of garbage can never describe something other than what was sent). Never a throw.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FrameErrorCode, type FrameResult } from "./codes.ts";
import { decodeRequest, encodeRequest } from "./request.ts";
import { decodeResponse, encodeResponse } from "./response.ts";

const errorCodes = new Set<string>(Object.values(FrameErrorCode));

function expectCleanOutcome<T>(
  decode: () => FrameResult<T>,
  reencode: (value: T) => FrameResult<Uint8Array>,
  input: Uint8Array,
) {
  let result: FrameResult<T>;
  try {
    result = decode();
  } catch (error) {
    throw new Error(`decoder threw on [${input.join(",")}]: ${error}`);
  }
  if (!result.ok) {
    expect(errorCodes.has(result.code)).toBe(true);
    expect(typeof result.message).toBe("string");
    expect(result.message.length).toBeGreaterThan(0);
    return;
  }
  const again = reencode(result.value);
  expect(again.ok).toBe(true);
  if (again.ok) expect(sameBytes(again.value, input)).toBe(true);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

const checkRequest = (bytes: Uint8Array) =>
  expectCleanOutcome(
    () => decodeRequest(bytes),
    (value) => encodeRequest(value),
    bytes,
  );
const checkResponse = (bytes: Uint8Array) =>
  expectCleanOutcome(
    () => decodeResponse(bytes),
    (value) => encodeResponse(value),
    bytes,
  );

const validRequest = fc
  .oneof(
    fc.record({
      kind: fc.constant("images" as const),
      dtype: fc.constantFrom("f32" as const, "f16" as const),
      images: fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 6 }),
    }),
    fc.record({
      kind: fc.constant("texts" as const),
      dtype: fc.constantFrom("f32" as const, "f16" as const),
      texts: fc.array(fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 10 }), {
        minLength: 1,
        maxLength: 6,
      }),
    }),
  )
  .map((input) => {
    const encoded = encodeRequest(input);
    if (!encoded.ok) throw new Error(encoded.message);
    return encoded.value;
  });

const validResponse = fc
  .record({
    dtype: fc.constantFrom("f32" as const, "f16" as const),
    dim: fc.integer({ min: 1, max: 6 }),
    modelId: fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }),
    preprocessingVersion: fc.string({ minLength: 1, maxLength: 8 }),
    statuses: fc.array(
      fc.constantFrom("ok", "invalid_image", "internal_error") as fc.Arbitrary<
        "ok" | "invalid_image" | "internal_error"
      >,
      { minLength: 1, maxLength: 6 },
    ),
    message: fc.string({ unit: "grapheme", maxLength: 10 }),
  })
  .map(({ statuses, message, ...rest }) => {
    // Finite values only: NaN payloads may legitimately be canonicalised by a copying decode.
    const items = statuses.map((status, i) =>
      status === "ok"
        ? { status, embedding: new Float32Array(rest.dim).map((_, j) => i - j / 3) }
        : { status, message },
    );
    const encoded = encodeResponse({ ...rest, items });
    if (!encoded.ok) throw new Error(encoded.message);
    return encoded.value;
  });

/** A copy of `frame` with some bits flipped / bytes overwritten / u32 fields replaced. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant("byte" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({
    kind: fc.constant("u32" as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
  }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(frame: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  const copy = frame.slice();
  for (const m of mutations) {
    const at = m.at % copy.length;
    if (m.kind === "flip") copy[at] = (copy[at] ?? 0) ^ (1 << m.bit);
    else if (m.kind === "byte") copy[at] = m.value;
    else if (at + 4 <= copy.length) new DataView(copy.buffer).setUint32(at - (at % 4), m.value, true);
  }
  return copy;
}

describe.each([
  ["request", validRequest, checkRequest],
  ["response", validResponse, checkResponse],
] as const)("fuzzing the %s decoder", (_, valid, check) => {
  it("survives random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => check(bytes)),
      { numRuns: 2000 },
    );
  });

  it("survives random bytes behind a valid prefix", () => {
    fc.assert(
      fc.property(valid, fc.uint8Array({ maxLength: 120 }), (frame, tail) => {
        const bytes = new Uint8Array(8 + tail.length);
        bytes.set(frame.subarray(0, 8));
        bytes.set(tail, 8);
        check(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it("rejects every truncation of a valid frame", () => {
    fc.assert(
      fc.property(valid, (frame) => {
        for (let length = 0; length < frame.length; length++) {
          const result = (check === checkRequest ? decodeRequest : decodeResponse)(frame.subarray(0, length));
          expect(result.ok).toBe(false);
          check(frame.subarray(0, length));
        }
      }),
      { numRuns: 200 },
    );
  });

  it("survives bit flips and overwritten fields of valid frames", () => {
    fc.assert(
      fc.property(valid, fc.array(mutation, { minLength: 1, maxLength: 4 }), (frame, mutations) =>
        check(mutate(frame, mutations)),
      ),
      { numRuns: 3000 },
    );
  });

  it("survives valid frames at unaligned offsets", () => {
    fc.assert(
      fc.property(valid, fc.integer({ min: 1, max: 3 }), (frame, shift) => {
        const shifted = new Uint8Array(frame.length + shift);
        shifted.set(frame, shift);
        check(shifted.subarray(shift));
      }),
    );
  });
});
