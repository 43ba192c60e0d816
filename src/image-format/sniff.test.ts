import { describe, expect, it } from "vitest";
import { sniffFormat } from "./sniff.ts";

const text = (s: string) => new TextEncoder().encode(s);
const bytes = (...b: number[]) => Uint8Array.from(b);
const ftyp = (...brands: string[]) =>
  Uint8Array.from([0, 0, 0, 8 + 4 * brands.length, ...text("ftyp"), ...brands.flatMap((b) => [...text(b)])]);

describe("sniffFormat: magic bytes decide, nothing else", () => {
  it.each([
    ["jpeg", bytes(0xff, 0xd8, 0xff, 0xe1, 0, 0)],
    ["png", bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0)],
    ["gif", text("GIF89a....")],
    ["gif", text("GIF87a....")],
    ["webp", text("RIFF\0\0\0\0WEBPVP8 ")],
    ["tiff", bytes(0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0)],
    ["tiff", bytes(0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8)],
    ["avif", ftyp("avif", "\0\0\0\0", "mif1", "miaf")],
    ["avif", ftyp("mif1", "\0\0\0\0", "avif")],
  ])("accepts %s", (format, b) => expect(sniffFormat(b)).toEqual({ kind: "image", format }));

  it.each([
    ["svg", text('<svg xmlns="http://www.w3.org/2000/svg"/>')],
    ["svg", text('\ufeff  <?xml version="1.0"?>\n<!DOCTYPE svg><svg/>')],
    ["pdf", text("%PDF-1.7\n")],
    ["html", text("<!DOCTYPE html><html></html>")],
    ["html", text("  <html><body>hi</body></html>")],
    ["xml", text('<?xml version="1.0"?><feed/>')],
    ["json", text('{"image": "no"}')],
    ["heif", ftyp("heic", "\0\0\0\0", "mif1", "heic")],
    ["video", ftyp("isom", "\0\0\0\0", "mp41")],
    ["bmp", Uint8Array.from([...text("BM"), ...new Array(40).fill(0)])],
    ["jxl", bytes(0xff, 0x0a, 0, 0)],
    ["zip", bytes(0x50, 0x4b, 0x03, 0x04)],
    ["psd", text("8BPS\0\x01")],
  ])("recognises and refuses %s", (format, b) =>
    expect(sniffFormat(b)).toEqual({ kind: "unsupported", format }),
  );

  it.each([
    ["empty", new Uint8Array()],
    ["random bytes", Uint8Array.from({ length: 64 }, (_, i) => (i * 73 + 41) & 255)],
    ["plain text", text("hello world")],
    ["a JPEG's first two bytes", bytes(0xff, 0xd8)],
  ])("does not recognise %s", (_name, b) => expect(sniffFormat(b)).toEqual({ kind: "unknown" }));
});
