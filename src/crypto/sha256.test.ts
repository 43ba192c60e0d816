import { describe, expect, it } from "vitest";
import { sha256, sha256Base64url, sha256Base64urlAfter } from "./sha256.ts";

const platform = async (bytes: Uint8Array) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

describe("sha256", () => {
  it("gives FIPS 180-4's digests for its examples", () => {
    const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    const text = (s: string) => new TextEncoder().encode(s);
    expect(hex(sha256(text("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(sha256(text("")))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(sha256(text("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    );
  });

  it("equals the platform's digest at every length up to three blocks (both padding cases) and on random inputs", async () => {
    let seed = 11;
    const byte = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed >>> 23;
    };
    const inputs = [
      ...Array.from({ length: 200 }, (_, n) => Uint8Array.from({ length: n }, byte)),
      ...Array.from({ length: 50 }, () => Uint8Array.from({ length: 200 + (byte() << 3) }, byte)),
      new Uint8Array(100_000).fill(0xff),
    ];
    for (const input of inputs) {
      const expected = await platform(input);
      expect(sha256(input)).toEqual(expected);
      expect(sha256Base64url(input)).toBe(base64url(expected));
    }
  });

  it("hashes a view by its own bytes, not its buffer's", async () => {
    const buffer = Uint8Array.from({ length: 100 }, (_, i) => i);
    const view = buffer.subarray(13, 77);
    expect(sha256(view)).toEqual(await platform(Uint8Array.from(view)));
  });

  it("hashes a shared prefix once and each suffix after it, to the digest of the two together", async () => {
    for (const prefixLength of [0, 1, 55, 56, 63, 64, 65, 128, 190]) {
      const prefix = Uint8Array.from({ length: prefixLength }, (_, i) => (i * 7) & 0xff);
      const after = sha256Base64urlAfter(prefix);
      for (const suffixLength of [0, 1, 8, 9, 55, 63, 64, 70, 200]) {
        const suffix = Uint8Array.from({ length: suffixLength }, (_, i) => (i * 13 + 1) & 0xff);
        const whole = new Uint8Array(prefixLength + suffixLength);
        whole.set(prefix);
        whole.set(suffix, prefixLength);
        expect(after(suffix), `${prefixLength} + ${suffixLength}`).toBe(base64url(await platform(whole)));
      }
    }
  });
});
