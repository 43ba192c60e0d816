import { describe, expect, it } from "vitest";
import { idsKey, labelKey, textKey } from "./keys.ts";

describe("text cache keys", () => {
  it("keys a text in the isolate by its ids exactly: equal ids share a key, any difference separates them", () => {
    const a = Int32Array.of(49406, 320, 1929, 49407);
    expect(idsKey(a)).toBe(idsKey(Int32Array.from(a)));
    expect(idsKey(a)).toBe(`#${String.fromCharCode(49406, 320, 1929, 49407)}`);
    const keys = [
      a,
      Int32Array.of(49406, 320, 1930, 49407),
      Int32Array.of(49406, 320, 49407),
      Int32Array.of(49406, 0xffff, 49407),
      Int32Array.of(49406, 0x1ffff, 49407),
      Int32Array.of(49406, 0xffff, 1, 0xffff, 49407), // what 0x1ffff's escape spells, id by id
    ].map(idsKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("never meets a label key in the shared LRU, and KV keys stay as KV-SCHEMA.md writes them", async () => {
    const label = await labelKey("m", "v", ["a photo of a {}."], "dog");
    expect(label).toMatch(/^lbl:v1:m:v:[A-Za-z0-9_-]{43}$/);
    expect(idsKey(Int32Array.of(...[..."lbl:"].map((c) => c.charCodeAt(0)))).startsWith("lbl:")).toBe(false);
    const ids = Int32Array.of(49406, 320, 49407);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(ids.buffer)));
    const expected = btoa(String.fromCharCode(...digest))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
    expect(await textKey("m", "v", ids)).toBe(`txt:v1:m:v:${expected}`);
  });
});
