import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeRequest, encodeRequest } from "./request.ts";

function encodeOk(...args: Parameters<typeof encodeRequest>): Uint8Array<ArrayBuffer> {
  const result = encodeRequest(...args);
  if (!result.ok) throw new Error(`${result.code}: ${result.message}`);
  return result.value;
}

describe("request frames", () => {
  it("lays out a texts frame exactly as documented", () => {
    const frame = encodeOk({ kind: "texts", dtype: "f16", texts: [[49406, 49407], []] });
    // biome-ignore format: one row per field
    expect([...frame]).toEqual([
      0x43, 0x4c, 0x49, 0x50, // "CLIP"
      1, 0x02, 2, 0,          // version, texts, f16, flags
      2, 0, 0, 0,             // 2 items
      2, 0, 0, 0,             // text 0: 2 tokens
      0, 0, 0, 0,             // text 1: empty
      0xfe, 0xc0, 0, 0,       // 49406
      0xff, 0xc0, 0, 0,       // 49407
    ]);
  });

  it("lays out an images frame as a length table followed by the bytes", () => {
    const frame = encodeOk({
      kind: "images",
      dtype: "f32",
      images: [new Uint8Array([0xff, 0xd8]), new Uint8Array([7])],
    });
    expect([...frame.subarray(4)]).toEqual([
      1, 0x01, 1, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0xff, 0xd8, 7,
    ]);
  });

  it("round-trips image batches", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 64 }),
        fc.constantFrom("f32" as const, "f16" as const),
        (images, dtype) => {
          const decoded = decodeRequest(encodeOk({ kind: "images", dtype, images }));
          expect(decoded).toEqual({ ok: true, value: { kind: "images", dtype, images } });
        },
      ),
    );
  });

  it("round-trips token batches, including ids up to 2^32-1", () => {
    const tokenId = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(
        fc.array(fc.array(tokenId, { maxLength: 80 }), { minLength: 1, maxLength: 64 }),
        (texts) => {
          const decoded = decodeRequest(encodeOk({ kind: "texts", dtype: "f32", texts }));
          expect(decoded.ok).toBe(true);
          if (decoded.ok && decoded.value.kind === "texts") {
            expect(decoded.value.texts.map((text) => [...text])).toEqual(texts);
          }
        },
      ),
    );
  });

  it("decodes to views into the input when aligned, and to correct copies when not", () => {
    const frame = encodeOk({ kind: "texts", dtype: "f32", texts: [[1, 2, 3]] });
    const aligned = decodeRequest(frame);
    if (!aligned.ok || aligned.value.kind !== "texts") throw new Error("decode failed");
    expect(aligned.value.texts[0]?.buffer).toBe(frame.buffer);

    const shifted = new Uint8Array(frame.length + 1);
    shifted.set(frame, 1);
    const unaligned = decodeRequest(shifted.subarray(1));
    if (!unaligned.ok || unaligned.value.kind !== "texts") throw new Error("decode failed");
    expect([...(unaligned.value.texts[0] ?? [])]).toEqual([1, 2, 3]);
    expect(unaligned.value.texts[0]?.buffer).not.toBe(shifted.buffer);
  });

  it("never copies image bytes", () => {
    const frame = encodeOk({ kind: "images", dtype: "f32", images: [new Uint8Array([1, 2, 3])] });
    const decoded = decodeRequest(frame.buffer);
    expect(decoded.ok && decoded.value.kind === "images" && decoded.value.images[0]?.buffer).toBe(
      frame.buffer,
    );
  });

  describe("limits", () => {
    it("refuses more than maxItems (64 by default) on both sides", () => {
      const images = Array.from({ length: 65 }, () => new Uint8Array(1));
      expect(encodeRequest({ kind: "images", dtype: "f32", images })).toMatchObject({
        code: "limit_exceeded",
      });
      const frame = encodeOk({ kind: "images", dtype: "f32", images }, { maxItems: 65 });
      expect(decodeRequest(frame)).toMatchObject({ ok: false, code: "limit_exceeded" });
      expect(decodeRequest(frame, { maxItems: 65 }).ok).toBe(true);
    });

    it("refuses a frame over maxFrameBytes before reading its header", () => {
      const frame = encodeOk({ kind: "images", dtype: "f32", images: [new Uint8Array(100)] });
      const result = decodeRequest(frame, { maxFrameBytes: 100 });
      expect(result).toEqual({
        ok: false,
        code: "limit_exceeded",
        message: "frame is 116 bytes; the limit is 100",
      });
      expect(
        encodeRequest(
          { kind: "images", dtype: "f32", images: [new Uint8Array(100)] },
          { maxFrameBytes: 100 },
        ),
      ).toMatchObject({ code: "limit_exceeded" });
      // Even garbage over the limit is a limit error, not a parse error: nothing is read first.
      expect(decodeRequest(new Uint8Array(101), { maxFrameBytes: 100 })).toMatchObject({
        code: "limit_exceeded",
      });
    });

    it("refuses texts over maxTokensPerText", () => {
      const texts = [Array.from({ length: 20 }, (_, i) => i)];
      expect(encodeRequest({ kind: "texts", dtype: "f32", texts }, { maxTokensPerText: 19 })).toMatchObject({
        code: "limit_exceeded",
      });
      const frame = encodeOk({ kind: "texts", dtype: "f32", texts });
      expect(decodeRequest(frame, { maxTokensPerText: 19 })).toMatchObject({ code: "limit_exceeded" });
    });

    it("catches a lying length before using it, with a message that says where", () => {
      const frame = encodeOk({
        kind: "images",
        dtype: "f32",
        images: [new Uint8Array(4), new Uint8Array(4)],
      });
      new DataView(frame.buffer).setUint32(12, 0xffffffff, true);
      expect(decodeRequest(frame)).toEqual({
        ok: false,
        code: "malformed_frame",
        message: "item 0 ends past the end of the 28-byte frame",
      });
    });
  });

  describe("rejections", () => {
    const valid = () => encodeOk({ kind: "texts", dtype: "f32", texts: [[1]] });
    const withByte = (index: number, value: number) => {
      const frame = valid();
      frame[index] = value;
      return frame;
    };

    it.each([
      ["a short frame", new Uint8Array(5), "malformed_frame"],
      ["bad magic", withByte(0, 0x00), "malformed_frame"],
      ["a newer version", withByte(4, 2), "unsupported_version"],
      ["an unknown frame type", withByte(5, 0x07), "malformed_frame"],
      ["a response frame", withByte(5, 0x81), "malformed_frame"],
      ["an unknown dtype", withByte(6, 9), "malformed_frame"],
      ["non-zero flags", withByte(7, 1), "malformed_frame"],
      ["zero items", withByte(8, 0), "malformed_frame"],
      ["trailing bytes", new Uint8Array([...valid(), 0]), "malformed_frame"],
      ["a truncated id", valid().subarray(0, 19), "malformed_frame"],
    ])("rejects %s", (_, frame, code) => {
      const result = decodeRequest(frame);
      expect(result).toMatchObject({ ok: false, code });
      expect(result.ok || result.message.length > 0).toBe(true);
    });

    it("refuses token ids that are not u32 when encoding", () => {
      for (const bad of [-1, 1.5, 2 ** 32, Number.NaN]) {
        expect(encodeRequest({ kind: "texts", dtype: "f32", texts: [[1, bad]] })).toMatchObject({
          ok: false,
          code: "invalid_input",
        });
      }
      expect(encodeRequest({ kind: "images", dtype: "f32", images: [] })).toMatchObject({
        code: "invalid_input",
      });
    });
  });
});
