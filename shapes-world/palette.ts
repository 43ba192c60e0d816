/**
 * The shapes world's colours and shapes, and the colours things are painted with.
 *
 * Each colour name has several anchor shades (CSS named colours, Material shades, darker/lighter variants)
 * because other renderers of this world will pick their own "red"; training on many anchors plus jitter keeps
 * the model about the colour category, not one RGB value.
 */
import type { Rng } from "./prng.ts";

export const COLOURS = ["red", "green", "blue", "yellow", "orange", "purple", "black", "white"] as const;
export const SHAPES = ["circle", "square", "triangle", "star"] as const;
export type Colour = (typeof COLOURS)[number];
export type Shape = (typeof SHAPES)[number];
export type Pair = { colour: Colour; shape: Shape };

/** Never rendered for training: the model must recognise these compositions zero-shot. */
export const HELD_OUT_PAIRS: readonly Pair[] = [
  { colour: "green", shape: "triangle" },
  { colour: "purple", shape: "star" },
  { colour: "orange", shape: "square" },
  { colour: "white", shape: "circle" },
];

export function isHeldOut(pair: Pair): boolean {
  return HELD_OUT_PAIRS.some((p) => p.colour === pair.colour && p.shape === pair.shape);
}

export const ALL_PAIRS: readonly Pair[] = COLOURS.flatMap((colour) =>
  SHAPES.map((shape) => ({ colour, shape })),
);
export const SEEN_PAIRS: readonly Pair[] = ALL_PAIRS.filter((p) => !isHeldOut(p));

export type Rgb = readonly [number, number, number];

const ANCHORS: Record<Colour, readonly string[]> = {
  red: ["#ff0000", "#e53935", "#d32f2f", "#c62828", "#f44336", "#dc143c", "#b22222", "#e0201b", "#ff2a2a"],
  green: ["#008000", "#00c800", "#4caf50", "#2e7d32", "#228b22", "#32cd32", "#43a047", "#1b9e3e", "#00a651"],
  blue: ["#0000ff", "#1e88e5", "#1565c0", "#2196f3", "#4169e1", "#0047ab", "#1f3fbf", "#0a5bd6", "#2a52be"],
  yellow: ["#ffff00", "#ffeb3b", "#fdd835", "#ffd700", "#f9e547", "#ffe600", "#f4d03f", "#fff200"],
  orange: ["#ffa500", "#ff8c00", "#ff9800", "#fb8c00", "#f57c00", "#ff7f00", "#ff6f00", "#f28c28"],
  purple: ["#800080", "#8e24aa", "#9c27b0", "#6a1b9a", "#7b1fa2", "#9932cc", "#8a2be2", "#7f3fbf", "#a020f0"],
  black: ["#000000", "#111111", "#212121", "#1a1a1a", "#262626", "#0d0d14"],
  white: ["#ffffff", "#fafafa", "#f5f5f5", "#f0f0f0", "#fffdf7", "#f7fbff"],
};

export function hexToRgb(hex: string): Rgb {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function rgbToCss([r, g, b]: Rgb): string {
  return `rgb(${Math.round(r)},${Math.round(g)},${Math.round(b)})`;
}

const clamp = (v: number) => Math.max(0, Math.min(255, v));

/** A shade of `colour`: an anchor plus jitter small enough to stay in the category. */
export function objectRgb(colour: Colour, rng: Rng): Rgb {
  const [r, g, b] = hexToRgb(rng.pick(ANCHORS[colour]));
  if (colour === "black" || colour === "white") {
    const shift = rng.range(-10, 10);
    return [
      clamp(r + shift + rng.range(-4, 4)),
      clamp(g + shift + rng.range(-4, 4)),
      clamp(b + shift + rng.range(-4, 4)),
    ];
  }
  // Brightness scale plus a little per-channel wobble: hue stays put, shade varies.
  const scale = rng.range(0.85, 1.08);
  const wobble = () => rng.range(-14, 14);
  return [clamp(r * scale + wobble()), clamp(g * scale + wobble()), clamp(b * scale + wobble())];
}

/** Background colours with the names captions may use. Saturated object colours may be backgrounds too. */
export const BACKGROUNDS: readonly { name: string; shades: readonly string[] }[] = [
  { name: "grey", shades: ["#808080", "#9e9e9e", "#8a8a8a", "#a0a0a0"] },
  { name: "light grey", shades: ["#d3d3d3", "#cfcfcf", "#dcdcdc", "#c8c8c8"] },
  { name: "dark grey", shades: ["#404040", "#4a4a4a", "#363636", "#555555"] },
  { name: "white", shades: ["#ffffff", "#f7f7f7", "#fbfbf5"] },
  { name: "black", shades: ["#000000", "#101010", "#181818"] },
  { name: "beige", shades: ["#f5f5dc", "#eee8cd", "#e8dcc0"] },
  { name: "pale blue", shades: ["#cfe3f5", "#bcd7ee", "#dbeaf7"] },
  { name: "pale green", shades: ["#d5ecd0", "#cbe6c3"] },
  { name: "pink", shades: ["#f8c8dc", "#f4b6c2", "#ffd1dc"] },
  { name: "brown", shades: ["#8b5a2b", "#6f4e37", "#7b5b3a"] },
  { name: "navy", shades: ["#1a2a4f", "#14213d"] },
  { name: "cream", shades: ["#fffdd0", "#f3efd5"] },
  ...COLOURS.map((c) => ({ name: c as string, shades: ANCHORS[c].slice(0, 4) })),
];

/** Backgrounds that must never sit behind an object of a given colour, beyond the object's own name. */
const CLASHES: Partial<Record<Colour, readonly string[]>> = {
  white: ["cream", "beige", "light grey", "white"],
  black: ["navy", "dark grey", "black"],
  yellow: ["cream", "beige", "orange"],
  blue: ["navy", "pale blue"],
  green: ["pale green"],
  red: ["pink", "orange", "brown"],
  orange: ["red", "yellow", "brown"],
  purple: ["navy", "blue", "pink"],
};

export function backgroundAllowed(name: string, colour: Colour): boolean {
  return name !== colour && !(CLASHES[colour] ?? []).includes(name);
}

/** Perceptual-ish distance (redmean); below ~120 an object no longer stands out from its background. */
export function colourDistance(a: Rgb, b: Rgb): number {
  const rMean = (a[0] + b[0]) / 2;
  const dr = a[0] - b[0];
  const dg = a[1] - b[1];
  const db = a[2] - b[2];
  return Math.sqrt((2 + rMean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rMean) / 256) * db * db);
}

/** Distinct background names, indexable (training labels refer to them by position). */
export const BACKGROUND_NAMES: readonly string[] = [...new Set(BACKGROUNDS.map((b) => b.name))];
