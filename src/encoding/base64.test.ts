import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "./base64.ts";

describe("base64", () => {
  it("round-trips any bytes (property), and agrees with Node's Buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (bytes) => {
        const text = encodeBase64(bytes);
        return (
          text === Buffer.from(bytes).toString("base64") &&
          Buffer.from(decodeBase64(text) ?? []).equals(Buffer.from(bytes))
        );
      }),
    );
  });

  it("accepts missing padding, the URL-safe alphabet and MIME line breaks", () => {
    expect(Array.from(decodeBase64("aGk") ?? [])).toEqual([104, 105]);
    expect(Array.from(decodeBase64("-_8") ?? [])).toEqual([251, 255]);
    expect(Array.from(decodeBase64("aG\r\nk=") ?? [])).toEqual([104, 105]);
    expect(decodeBase64("")).toEqual(new Uint8Array(0));
  });

  it.each(["not base64!", "a", "aGk==", "aG=k", "a+_b", "aGk= ", "ä"])("refuses %j", (text) => {
    expect(decodeBase64(text)).toBeUndefined();
  });
});
