import { describe, expect, it } from "vitest";
import { SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER } from "./sign.ts";
import { type VerifyRequestInput, verifyRequest } from "./verify.ts";

const secret = "edge-to-gpu-shared-secret-0123456789";
const now = Date.UTC(2026, 0, 1, 12, 0, 0);
const body = new TextEncoder().encode("frame bytes");
const request = { method: "POST", path: "/v1/embed/images?dtype=f16", body };

async function signed(overrides: Partial<VerifyRequestInput> = {}, signedAt = now) {
  const headers = await signRequest({ secret, ...request, now: signedAt });
  return verifyRequest({ secret, ...request, headers, now, ...overrides });
}

describe("verifyRequest", () => {
  it("accepts a request signed with the same secret", async () => {
    expect(await signed()).toEqual({ ok: true });
  });

  it("accepts fetch Headers and plain objects with any header case", async () => {
    const headers = await signRequest({ secret, ...request, now });
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    expect(await signed({ headers: new Headers(headers) })).toEqual({ ok: true });
    expect(await signed({ headers: lower })).toEqual({ ok: true });
    expect(
      await signed({ headers: { ...lower, "x-clip-signature": [lower["x-clip-signature"] ?? ""] } }),
    ).toEqual({
      ok: true,
    });
  });

  it.each([
    ["body", { body: new TextEncoder().encode("frame bytez") }],
    ["body removed", { body: undefined }],
    ["path", { path: "/v1/embed/texts?dtype=f16" }],
    ["query string", { path: "/v1/embed/images?dtype=f32" }],
    ["method", { method: "PUT" }],
    ["secret", { secret: "a-different-secret-of-enough-length!!" }],
  ])("rejects a tampered %s as bad_signature", async (_, overrides) => {
    expect(await signed(overrides)).toMatchObject({ ok: false, code: "bad_signature" });
  });

  it("rejects a tampered timestamp even when it is inside the window", async () => {
    const headers = await signRequest({ secret, ...request, now });
    const moved = { ...headers, [TIMESTAMP_HEADER]: String(now / 1000 - 1) };
    expect(await signed({ headers: moved })).toMatchObject({ ok: false, code: "bad_signature" });
  });

  it("accepts exactly ±60 s of skew and rejects 61 s in either direction", async () => {
    expect(await signed({}, now - 60_000)).toEqual({ ok: true });
    expect(await signed({}, now + 60_000)).toEqual({ ok: true });
    expect(await signed({}, now - 61_000)).toMatchObject({ ok: false, code: "stale_timestamp" });
    expect(await signed({}, now + 61_000)).toMatchObject({ ok: false, code: "stale_timestamp" });
  });

  it("keeps accepting a captured request only until the window closes (replay edge)", async () => {
    const headers = await signRequest({ secret, ...request, now });
    const replayAt = (ms: number) => verifyRequest({ secret, ...request, headers, now: ms });
    expect(await replayAt(now + 60_999)).toEqual({ ok: true }); // still second +60
    expect(await replayAt(now + 61_000)).toMatchObject({ code: "stale_timestamp" });
  });

  it("honours a custom window", async () => {
    expect(await signed({ windowSeconds: 5 }, now - 6_000)).toMatchObject({ code: "stale_timestamp" });
    expect(await signed({ windowSeconds: 5 }, now - 5_000)).toEqual({ ok: true });
  });

  it("fails closed (throws, a configuration bug) for a NaN window or clock instead of accepting everything", async () => {
    await expect(signed({ windowSeconds: Number.NaN })).rejects.toThrow(RangeError);
    await expect(signed({ windowSeconds: -1 })).rejects.toThrow(RangeError);
    await expect(signed({ now: Number.NaN })).rejects.toThrow(RangeError);
  });

  it("reports missing and malformed headers with their own codes", async () => {
    const headers = await signRequest({ secret, ...request, now });
    const without = (name: string) => Object.fromEntries(Object.entries(headers).filter(([k]) => k !== name));
    const cases: Array<[Record<string, string>, string]> = [
      [{}, "missing_signature"],
      [without(SIGNATURE_HEADER), "missing_signature"],
      [without(TIMESTAMP_HEADER), "missing_timestamp"],
      [{ ...headers, [TIMESTAMP_HEADER]: "1.5e9" }, "malformed_timestamp"],
      [{ ...headers, [TIMESTAMP_HEADER]: "-1" }, "malformed_timestamp"],
      [{ ...headers, [SIGNATURE_HEADER]: `v2=${"0".repeat(64)}` }, "malformed_signature"],
      [{ ...headers, [SIGNATURE_HEADER]: `v1=${"0".repeat(63)}` }, "malformed_signature"],
      [{ ...headers, [SIGNATURE_HEADER]: `${headers[SIGNATURE_HEADER]}, v1=00` }, "malformed_signature"],
    ];
    for (const [given, code] of cases) {
      expect(await signed({ headers: given }), code).toMatchObject({ ok: false, code });
    }
  });

  it("treats a header sent twice as missing", async () => {
    const headers = await signRequest({ secret, ...request, now });
    const twice = { ...headers, "x-clip-signature": headers[SIGNATURE_HEADER] };
    expect(await signed({ headers: twice })).toMatchObject({ code: "missing_signature" });
  });

  it("rejects an all-zero or flipped-bit signature", async () => {
    const headers = await signRequest({ secret, ...request, now });
    const hex = headers[SIGNATURE_HEADER].slice(3);
    const flipped = (Number.parseInt(hex[0] ?? "0", 16) ^ 1).toString(16) + hex.slice(1);
    for (const sig of ["0".repeat(64), flipped, hex.toUpperCase().replace(/^./, flipped[0] ?? "0")]) {
      const result = await signed({ headers: { ...headers, [SIGNATURE_HEADER]: `v1=${sig}` } });
      expect(result).toMatchObject({ code: "bad_signature" });
    }
    // Upper-case hex of the right MAC is still the right MAC.
    expect(await signed({ headers: { ...headers, [SIGNATURE_HEADER]: `v1=${hex.toUpperCase()}` } })).toEqual({
      ok: true,
    });
  });

  it("accepts any of several secrets during a rotation", async () => {
    const rotating = ["the-new-secret-0123456789abcdefghij", secret];
    expect(await signed({ secret: rotating })).toEqual({ ok: true });
    expect(await signed({ secret: [rotating[0] ?? ""] })).toMatchObject({ code: "bad_signature" });
  });

  it("never echoes the secret or the expected signature", async () => {
    const headers = await signRequest({ secret, ...request, now });
    const results = [
      await signed({ body: new Uint8Array(1) }),
      await signed({ headers: { [TIMESTAMP_HEADER]: "x", [SIGNATURE_HEADER]: "y" } }),
      await signed({}, now - 3_600_000),
    ];
    for (const result of results) {
      const text = JSON.stringify(result);
      expect(text).not.toContain(secret);
      expect(text).not.toContain(headers[SIGNATURE_HEADER].slice(3));
    }
  });
});
