import { describe, expect, it } from "vitest";
import { bodyHashHex, bytesToHex, canonicalMessage, hexToBytes, signedPathOf } from "./canonical.ts";
import { cachedKeyCount, checkSecret } from "./keys.ts";
import { requiresSignature } from "./routes.ts";
import { SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER } from "./sign.ts";

const secret = "s3cret-s3cret-s3cret-s3cret-s3cret-!";
const now = Date.UTC(2026, 0, 1, 12, 0, 0);

describe("signRequest", () => {
  it("returns a Unix-seconds timestamp and a v1 hex signature", async () => {
    const headers = await signRequest({
      secret,
      method: "POST",
      path: "/v1/embed",
      body: "x",
      now: now + 999,
    });
    expect(headers[TIMESTAMP_HEADER]).toBe(String(now / 1000));
    expect(headers[SIGNATURE_HEADER]).toMatch(/^v1=[0-9a-f]{64}$/);
  });

  it("is deterministic for the same inputs and differs when any signed part changes", async () => {
    const base = { secret, method: "POST", path: "/v1/embed?a=1", body: "hello", now };
    const sig = async (overrides: object) => (await signRequest({ ...base, ...overrides }))[SIGNATURE_HEADER];
    const original = await sig({});
    expect(await sig({})).toBe(original);
    expect(await sig({ method: "post" })).toBe(original);
    expect(await sig({ body: new TextEncoder().encode("hello") })).toBe(original);
    for (const change of [
      { method: "PUT" },
      { path: "/v1/embed?a=2" },
      { body: "hello!" },
      { now: now + 1000 },
      { secret: `${secret}x` },
    ]) {
      expect(await sig(change)).not.toBe(original);
    }
  });

  it("matches an independently computed HMAC of the canonical message", async () => {
    const headers = await signRequest({ secret, method: "GET", path: "/readyz?x", now });
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    const message = `CLIP-EDGE-HMAC-SHA256-V1\n${now / 1000}\nGET\n/readyz?x\n${await bodyHashHex(undefined)}`;
    const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message));
    expect(headers[SIGNATURE_HEADER]).toBe(`v1=${bytesToHex(new Uint8Array(mac))}`);
  });

  it("imports the key once per secret", async () => {
    const before = cachedKeyCount();
    const fresh = "another-secret-another-secret-another";
    for (let i = 0; i < 5; i++) await signRequest({ secret: fresh, method: "GET", path: "/", now });
    expect(cachedKeyCount()).toBe(before + 1);
  });

  it("rejects with a TypeError (a bug, not bad input) for a secret that checkSecret rejects", async () => {
    await expect(signRequest({ secret: "short", method: "GET", path: "/" })).rejects.toThrow(TypeError);
  });
});

describe("checkSecret", () => {
  it("accepts 32+ byte strings and rejects others without echoing the value", () => {
    expect(checkSecret("x".repeat(32))).toEqual({ ok: true });
    const result = checkSecret("tooshort-value");
    expect(result).toMatchObject({ ok: false, code: "invalid_secret" });
    expect(JSON.stringify(result)).not.toContain("tooshort-value");
    expect(checkSecret(undefined)).toMatchObject({ ok: false });
  });
});

describe("canonical helpers", () => {
  it("hashes an absent body like an empty one", async () => {
    expect(await bodyHashHex(null)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(await bodyHashHex(new ArrayBuffer(0))).toBe(await bodyHashHex(""));
  });

  it("hashes only the view, not the whole underlying buffer", async () => {
    const buffer = new Uint8Array([9, 1, 2, 3, 9]);
    expect(await bodyHashHex(buffer.subarray(1, 4))).toBe(await bodyHashHex(new Uint8Array([1, 2, 3])));
  });

  it("signs path plus query, never the fragment or host", () => {
    expect(signedPathOf("https://gpu.internal:8443/v1/embed?dtype=f16#frag")).toBe("/v1/embed?dtype=f16");
    expect(signedPathOf(new URL("http://x/"))).toBe("/");
  });

  it("upper-cases the method in the canonical message", () => {
    expect(canonicalMessage("1", "post", "/p", "h")).toBe("CLIP-EDGE-HMAC-SHA256-V1\n1\nPOST\n/p\nh");
  });

  it("round-trips hex and rejects non-hex", () => {
    expect(hexToBytes("00Ff10")).toEqual(new Uint8Array([0, 255, 16]));
    expect(bytesToHex(new Uint8Array([0, 255, 16]))).toBe("00ff10");
    expect(hexToBytes("0")).toBeUndefined();
    expect(hexToBytes("0g")).toBeUndefined();
  });
});

describe("requiresSignature", () => {
  it("exempts exactly the probe paths, query or not", () => {
    expect(requiresSignature("/healthz")).toBe(false);
    expect(requiresSignature("/readyz?verbose=1")).toBe(false);
    expect(requiresSignature("/v1/embed/images")).toBe(true);
    expect(requiresSignature("/healthz/")).toBe(true);
    expect(requiresSignature("/HEALTHZ")).toBe(true);
    expect(requiresSignature("/healthz/../v1/embed/texts")).toBe(true);
  });
});
