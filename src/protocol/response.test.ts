import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { float16ToFloat32, float32ToFloat16 } from "../vector/float16.ts";
import type { ItemErrorStatus } from "./codes.ts";
import { type BatchResponseInput, decodeResponse, embeddingToFloat32, encodeResponse } from "./response.ts";

function encodeOk(input: BatchResponseInput): Uint8Array {
  const result = encodeResponse(input);
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result.value;
}

const base = { dim: 2, modelId: "m", preprocessingVersion: "p" } as const;

const errorStatus = fc.constantFrom<ItemErrorStatus>(
  "invalid_image",
  "unsupported_format",
  "image_too_large",
  "text_too_long",
  "invalid_tokens",
  "internal_error",
);

const response = fc.integer({ min: 1, max: 24 }).chain((dim) =>
  fc.record({
    dtype: fc.constantFrom("f32" as const, "f16" as const),
    dim: fc.constant(dim),
    modelId: fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
    preprocessingVersion: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 20 }),
    items: fc.array(
      fc.oneof(
        fc.record({
          status: fc.constant("ok" as const),
          embedding: fc.float32Array({ minLength: dim, maxLength: dim }),
        }),
        fc.record({ status: errorStatus, message: fc.string({ unit: "grapheme", maxLength: 60 }) }),
      ),
      { minLength: 1, maxLength: 64 },
    ),
  }),
);

describe("response frames", () => {
  it("lays out a response exactly as documented", () => {
    const frame = encodeOk({
      ...base,
      dtype: "f16",
      items: [
        { status: "invalid_image", message: "bad" },
        { status: "ok", embedding: new Float32Array([1, -2]) },
      ],
    });
    // biome-ignore format: one row per field
    expect([...frame]).toEqual([
      0x43, 0x4c, 0x49, 0x50, 1, 0x81, 2, 0, // prefix: response, f16
      2, 0, 0, 0,                             // 2 items
      2, 0, 0, 0,                             // dim 2
      1, 1, 0, 0,                             // label lengths, reserved
      0x6d, 0x70,                             // "m", "p"
      1, 0,                                   // statuses: invalid_image, ok
      3, 0,                                   // message lengths
      0x62, 0x61, 0x64,                       // "bad"
      0, 0, 0,                                // padding to 32
      0x00, 0x3c, 0x00, 0xc0,                 // 1, -2 as float16
    ]);
  });

  it("round-trips float32 responses exactly", () => {
    fc.assert(
      fc.property(
        response.map((r) => ({ ...r, dtype: "f32" as const })),
        (input) => {
          const decoded = decodeResponse(encodeOk(input));
          expect(decoded).toEqual({ ok: true, value: input });
        },
      ),
    );
  });

  it("round-trips float16 responses to the nearest half of each value", () => {
    fc.assert(
      fc.property(
        response.map((r) => ({ ...r, dtype: "f16" as const })),
        (input) => {
          const decoded = decodeResponse(encodeOk(input));
          if (!decoded.ok) throw new Error(decoded.message);
          expect(decoded.value.items.length).toBe(input.items.length);
          for (const [i, item] of decoded.value.items.entries()) {
            const sent = input.items[i];
            if (sent?.status === "ok" && item.status === "ok") {
              expect(item.embedding).toBeInstanceOf(Uint16Array);
              expect(embeddingToFloat32(item.embedding)).toEqual(
                float16ToFloat32(float32ToFloat16(sent.embedding)),
              );
            } else {
              expect(item).toEqual(sent);
            }
          }
        },
      ),
    );
  });

  it("carries the model id and preprocessing version", () => {
    const frame = encodeOk({
      dtype: "f32",
      dim: 1,
      modelId: "clip-vit-b32@openai",
      preprocessingVersion: "resize-bicubic-224/v3",
      items: [{ status: "ok", embedding: new Float32Array([0.5]) }],
    });
    expect(decodeResponse(frame)).toMatchObject({
      ok: true,
      value: { modelId: "clip-vit-b32@openai", preprocessingVersion: "resize-bicubic-224/v3" },
    });
  });

  it("accepts float16 bits as input and widens them for an f32 response", () => {
    const halves = float32ToFloat16(new Float32Array([0.25, 3]));
    const decoded = decodeResponse(
      encodeOk({ ...base, dtype: "f32", items: [{ status: "ok", embedding: halves }] }),
    );
    expect(decoded.ok && decoded.value.items[0]).toEqual({
      status: "ok",
      embedding: new Float32Array([0.25, 3]),
    });
  });

  it("gives embeddings as views into an aligned input, and as copies otherwise", () => {
    const frame = encodeOk({
      ...base,
      dtype: "f32",
      items: [
        { status: "internal_error", message: "x" },
        { status: "ok", embedding: new Float32Array([1, 2]) },
      ],
    });
    const aligned = decodeResponse(frame);
    const item = aligned.ok ? aligned.value.items[1] : undefined;
    expect(item?.status === "ok" && item.embedding.buffer).toBe(frame.buffer);

    const shifted = new Uint8Array(frame.length + 2);
    shifted.set(frame, 2);
    const copied = decodeResponse(shifted.subarray(2));
    const copiedItem = copied.ok ? copied.value.items[1] : undefined;
    expect(copiedItem).toEqual({ status: "ok", embedding: new Float32Array([1, 2]) });
    expect(copiedItem?.status === "ok" && copiedItem.embedding.buffer).not.toBe(shifted.buffer);
  });

  it("cuts long messages to 255 bytes without splitting a character", () => {
    const message = `${"a".repeat(254)}é and more`;
    const decoded = decodeResponse(
      encodeOk({ ...base, dtype: "f32", items: [{ status: "invalid_image", message }] }),
    );
    expect(decoded.ok && decoded.value.items[0]).toEqual({
      status: "invalid_image",
      message: "a".repeat(254),
    });
  });

  it("returns encoder problems as invalid_input values", () => {
    const ok = { status: "ok" as const, embedding: new Float32Array(2) };
    const cases: BatchResponseInput[] = [
      { ...base, dtype: "f32", items: [] },
      { ...base, dtype: "f32", items: [{ status: "ok", embedding: new Float32Array(3) }] },
      { ...base, dim: 0, dtype: "f32", items: [ok] },
      { ...base, modelId: "", dtype: "f32", items: [ok] },
      { ...base, preprocessingVersion: "x".repeat(256), dtype: "f32", items: [ok] },
      { ...base, dtype: "f32", items: [{ status: "exploded" as ItemErrorStatus }] },
    ];
    for (const input of cases)
      expect(encodeResponse(input)).toMatchObject({ ok: false, code: "invalid_input" });
  });

  it("enforces maxDim and maxItems when decoding", () => {
    const frame = encodeOk({
      ...base,
      dtype: "f32",
      items: [{ status: "ok", embedding: new Float32Array(2) }],
    });
    expect(decodeResponse(frame, { maxDim: 1 })).toMatchObject({ code: "limit_exceeded" });
    const many = encodeOk({
      ...base,
      dtype: "f32",
      items: [{ status: "internal_error" }, { status: "internal_error" }],
    });
    expect(decodeResponse(many, { maxItems: 1 })).toMatchObject({ code: "limit_exceeded" });
  });

  describe("rejections", () => {
    const valid = () =>
      encodeOk({
        ...base,
        dtype: "f32",
        items: [
          { status: "text_too_long", message: "77" },
          { status: "ok", embedding: new Float32Array([1, 2]) },
        ],
      });
    // Offsets into `valid()`: labels at 20–21, statuses 22–23, message lengths 24–25, message 26–27, data 28.
    const withByte = (index: number, value: number) => {
      const frame = valid();
      frame[index] = value;
      return frame;
    };

    it.each([
      ["a request frame", withByte(5, 0x01)],
      ["an empty model id", withByte(16, 0)],
      ["non-zero reserved bytes", withByte(18, 1)],
      ["an unknown status", withByte(22, 200)],
      ["a message on an ok item", withByte(25, 1)],
      ["a message that is not UTF-8", withByte(26, 0xff)],
      ["a model id that is not UTF-8", withByte(20, 0xc3)],
      ["a missing embedding", valid().subarray(0, 32)],
      ["an extra byte", new Uint8Array([...valid(), 0])],
      ["zero dimension", withByte(12, 0)],
    ])("rejects %s as malformed", (_, frame) => {
      expect(decodeResponse(frame)).toMatchObject({ ok: false, code: "malformed_frame" });
    });

    it("rejects non-zero padding", () => {
      const frame = encodeOk({ ...base, dtype: "f32", items: [{ status: "invalid_image", message: "a" }] });
      expect(frame.length).toBe(28); // 27 bytes of header and message, one byte of padding
      frame[27] = 1;
      expect(decodeResponse(frame)).toMatchObject({
        code: "malformed_frame",
        message: expect.stringContaining("padding"),
      });
    });
  });
});
