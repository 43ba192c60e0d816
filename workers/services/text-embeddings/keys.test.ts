import { describe, expect, it } from "vitest";
import { idsKey, labelKey, labelKeys, textKey } from "./keys.ts";

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
    const label = labelKey("m", "v", ["a photo of a {}."], "dog");
    expect(label).toMatch(/^lbl:v1:m:v:[A-Za-z0-9_-]{43}$/);
    expect(idsKey(Int32Array.of(...[..."lbl:"].map((c) => c.charCodeAt(0)))).startsWith("lbl:")).toBe(false);
    const ids = Int32Array.of(49406, 320, 49407);
    expect(textKey("m", "v", ids)).toBe(`txt:v1:m:v:${await platformDigest(new Uint8Array(ids.buffer))}`);
    // A view into a larger row hashes its own ids only.
    const row = Int32Array.of(49406, 320, 49407, 0, 0);
    expect(textKey("m", "v", row.subarray(0, 3))).toBe(textKey("m", "v", ids));
  });

  it("label keys hash the JSON [templates, label] with the platform's SHA-256, whatever the label holds", async () => {
    const templates = ["a photo of a {}.", 'a "quoted" {}', "un {} été"];
    const keyOf = labelKeys("m", "v", templates);
    for (const label of ["dog", 'say "cheese"', "back\\slash", "été", "\u2028", "🐶", "\u0000"]) {
      const json = new TextEncoder().encode(JSON.stringify([templates, label]));
      expect(keyOf(label)).toBe(`lbl:v1:m:v:${await platformDigest(json)}`);
      expect(labelKey("m", "v", templates, label)).toBe(keyOf(label));
    }
  });
});

async function platformDigest(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return btoa(String.fromCharCode(...digest))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}
