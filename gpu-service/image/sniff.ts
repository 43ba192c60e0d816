/**
 * What the bytes are, from their magic numbers only: a declared content type or file name is never
 * trusted. Pure.
 *
 * Accepted (decoded by sharp's bundled libvips): JPEG, PNG, WebP, GIF (first frame), AVIF, TIFF (first
 * page). Recognised but refused, so the caller gets `unsupported_format` rather than `invalid_image`:
 * SVG (it can reference external resources and is a script-capable document, not pixels), PDF, HEIC/HEIF
 * (the bundled libheif has no HEVC decoder), JPEG XL and JPEG 2000 (not in the bundled libvips), BMP,
 * ICO, PSD, and common non-image documents (HTML, XML, JSON, ZIP, gzip, video containers).
 */

export const ACCEPTED_FORMATS = ["jpeg", "png", "webp", "gif", "avif", "tiff"] as const;
export type AcceptedFormat = (typeof ACCEPTED_FORMATS)[number];

export type Sniffed =
  | { kind: "image"; format: AcceptedFormat }
  | { kind: "unsupported"; format: string }
  | { kind: "unknown" };

function startsWith(bytes: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (bytes.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[at + i] !== sig[i]) return false;
  return true;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < Math.min(end, bytes.length); i++) s += String.fromCharCode(bytes[i] as number);
  return s;
}

const AVIF_BRANDS = new Set(["avif", "avis"]);
const HEIF_BRANDS = new Set(["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1"]);
const VIDEO_BRANDS = new Set([
  "isom",
  "iso2",
  "mp41",
  "mp42",
  "M4V ",
  "M4A ",
  "qt  ",
  "3gp4",
  "3gp5",
  "dash",
]);

/** ISO base media (`ftyp` box): AVIF is accepted; HEIC and video containers are recognised and refused. */
function sniffFtyp(bytes: Uint8Array): Sniffed | null {
  if (ascii(bytes, 4, 8) !== "ftyp") return null;
  const boxSize =
    ((bytes[0] as number) << 24) |
    ((bytes[1] as number) << 16) |
    ((bytes[2] as number) << 8) |
    (bytes[3] as number);
  const end = Math.min(bytes.length, Math.max(boxSize, 16));
  const brands = [ascii(bytes, 8, 12)];
  for (let p = 16; p + 4 <= end; p += 4) brands.push(ascii(bytes, p, p + 4));
  if (brands.some((b) => AVIF_BRANDS.has(b))) return { kind: "image", format: "avif" };
  if (brands.some((b) => HEIF_BRANDS.has(b))) return { kind: "unsupported", format: "heif" };
  if (brands.some((b) => VIDEO_BRANDS.has(b))) return { kind: "unsupported", format: "video" };
  if (brands.some((b) => b === "jxl ")) return { kind: "unsupported", format: "jxl" };
  if (brands.some((b) => b === "jp2 " || b === "jpx ")) return { kind: "unsupported", format: "jpeg2000" };
  return { kind: "unsupported", format: "isobmff" };
}

/** Text documents: skip a BOM and leading whitespace, then look at the first tag. */
function sniffText(bytes: Uint8Array): Sniffed | null {
  let p = startsWith(bytes, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (
    p < bytes.length &&
    (bytes[p] === 0x20 || bytes[p] === 0x09 || bytes[p] === 0x0a || bytes[p] === 0x0d)
  )
    p++;
  const head = ascii(bytes, p, p + 1024).toLowerCase();
  if (head.startsWith("<svg") || (head.startsWith("<") && head.includes("<svg"))) {
    return { kind: "unsupported", format: "svg" };
  }
  if (head.startsWith("<!doctype html") || /^<(html|head|body|!--)/.test(head)) {
    return { kind: "unsupported", format: "html" };
  }
  if (head.startsWith("<?xml") || head.startsWith("<!doctype")) return { kind: "unsupported", format: "xml" };
  if (head.startsWith("{") || head.startsWith("[")) return { kind: "unsupported", format: "json" };
  return null;
}

/**
 * @example sniffFormat(new Uint8Array([0xff, 0xd8, 0xff, 0xe0])) // { kind: "image", format: "jpeg" }
 * @example sniffFormat(new TextEncoder().encode("<svg ...")) // { kind: "unsupported", format: "svg" }
 */
export function sniffFormat(bytes: Uint8Array): Sniffed {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: "image", format: "jpeg" };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    return { kind: "image", format: "png" };
  if (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a")
    return { kind: "image", format: "gif" };
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 12) === "WEBP")
    return { kind: "image", format: "webp" };
  // Classic and BigTIFF, both byte orders.
  if (
    startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) ||
    startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]) ||
    startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) ||
    startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])
  ) {
    return { kind: "image", format: "tiff" };
  }
  const ftyp = sniffFtyp(bytes);
  if (ftyp) return ftyp;

  if (ascii(bytes, 0, 5) === "%PDF-") return { kind: "unsupported", format: "pdf" };
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) {
    return { kind: "unsupported", format: "jxl" };
  }
  if (
    startsWith(bytes, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]) ||
    startsWith(bytes, [0xff, 0x4f, 0xff, 0x51])
  ) {
    return { kind: "unsupported", format: "jpeg2000" };
  }
  if (ascii(bytes, 0, 2) === "BM" && bytes.length >= 26) return { kind: "unsupported", format: "bmp" };
  if (startsWith(bytes, [0, 0, 1, 0]) || startsWith(bytes, [0, 0, 2, 0]))
    return { kind: "unsupported", format: "ico" };
  if (ascii(bytes, 0, 4) === "8BPS") return { kind: "unsupported", format: "psd" };
  if (ascii(bytes, 0, 4) === "qoif") return { kind: "unsupported", format: "qoi" };
  if (startsWith(bytes, [0x76, 0x2f, 0x31, 0x01])) return { kind: "unsupported", format: "exr" };
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return { kind: "unsupported", format: "zip" };
  if (startsWith(bytes, [0x1f, 0x8b])) return { kind: "unsupported", format: "gzip" };
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return { kind: "unsupported", format: "video" };
  return sniffText(bytes) ?? { kind: "unknown" };
}
