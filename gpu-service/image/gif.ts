/**
 * PIL shows a GIF's first frame as palette indices: a transparent pixel keeps its palette colour, and
 * canvas outside the first frame holds the transparent index (or index 0). libvips renders those pixels
 * as transparent black instead, so we read, from the header only, the colour PIL would show there.
 * Pure: a walk over GIF blocks up to the first image descriptor.
 */

export type Rgb = readonly [number, number, number];

/** Skips a chain of data sub-blocks starting at `at`; returns the offset after the terminator. */
function skipSubBlocks(b: Uint8Array, at: number): number {
  let p = at;
  while (p < b.length) {
    const n = b[p] as number;
    p += 1 + n;
    if (n === 0) return p;
  }
  return b.length;
}

function paletteColour(b: Uint8Array, tableAt: number, entries: number, index: number): Rgb | null {
  if (index >= entries) return [0, 0, 0];
  const at = tableAt + index * 3;
  if (at + 3 > b.length) return null;
  return [b[at] as number, b[at + 1] as number, b[at + 2] as number];
}

export interface GifFirstFrame {
  /** Colour PIL shows for transparent pixels and for canvas the frame doesn't cover. */
  fill: Rgb;
  /** The first frame's rectangle on the canvas. */
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * What PIL needs beyond libvips' rendering of the first frame, or null if the header can't be read (the
 * decoder will then report the file as invalid anyway).
 *
 * @example gifFirstFrame(bytes)?.fill // [237, 238, 154]: palette entry of the transparent index
 */
export function gifFirstFrame(b: Uint8Array): GifFirstFrame | null {
  if (b.length < 13) return null;
  const lsdFlags = b[10] as number;
  let p = 13;
  let globalAt = -1;
  let globalEntries = 0;
  if (lsdFlags & 0x80) {
    globalEntries = 1 << ((lsdFlags & 7) + 1);
    globalAt = p;
    p += 3 * globalEntries;
  }
  let transparent: number | null = null;
  while (p < b.length) {
    const block = b[p] as number;
    if (block === 0x21) {
      const label = b[p + 1] as number;
      // Graphic Control Extension: flags, delay (2), transparent index.
      if (label === 0xf9 && (b[p + 2] as number) >= 4) {
        transparent = (b[p + 3] as number) & 1 ? (b[p + 6] as number) : null;
      }
      p = skipSubBlocks(b, p + 2);
    } else if (block === 0x2c) {
      if (p + 10 > b.length) return null;
      const flags = b[p + 9] as number;
      const index = transparent ?? 0;
      let fill: Rgb | null = [0, 0, 0];
      if (flags & 0x80) fill = paletteColour(b, p + 10, 1 << ((flags & 7) + 1), index);
      else if (globalAt >= 0) fill = paletteColour(b, globalAt, globalEntries, index);
      if (!fill) return null;
      const u16 = (at: number) => (b[at] as number) | ((b[at + 1] as number) << 8);
      return { fill, left: u16(p + 1), top: u16(p + 3), width: u16(p + 5), height: u16(p + 7) };
    } else {
      return null;
    }
  }
  return null;
}

/**
 * libvips' RGB(A) rendering of the first frame (`width` pixels wide) to PIL's RGB: transparent pixels and
 * canvas outside the frame take `frame.fill`; alpha is dropped.
 */
export function pilFirstFrame(
  rgba: Uint8Array,
  channels: number,
  width: number,
  frame: GifFirstFrame,
): Uint8Array {
  const n = rgba.length / channels;
  const out = new Uint8Array(n * 3);
  const { fill, left, top } = frame;
  const right = left + frame.width;
  const bottom = top + frame.height;
  for (let i = 0; i < n; i++) {
    const s = i * channels;
    const x = i % width;
    const y = (i - x) / width;
    const outside = x < left || x >= right || y < top || y >= bottom;
    const transparent = outside || (channels === 4 && rgba[s + 3] === 0);
    out[i * 3] = transparent ? fill[0] : (rgba[s] as number);
    out[i * 3 + 1] = transparent ? fill[1] : (rgba[s + 1] as number);
    out[i * 3 + 2] = transparent ? fill[2] : (rgba[s + 2] as number);
  }
  return out;
}
