/**
 * A scene: what one sample shows, decided from the seeded stream before anything is drawn.
 *
 * Rendering parameters (star inner radius, triangle proportions, outlines, shadows, textures, noise, JPEG
 * quality) vary widely on purpose: the model is later checked on other renderers of this world, so it has to
 * learn colour and shape rather than one renderer's quirks.
 */
import {
  ALL_PAIRS,
  BACKGROUNDS,
  backgroundAllowed,
  type Colour,
  colourDistance,
  hexToRgb,
  isHeldOut,
  objectRgb,
  type Pair,
  type Rgb,
  SEEN_PAIRS,
  type Shape,
} from "./palette.ts";
import type { Rng } from "./prng.ts";

/** Which colour–shape pairs a sample may show: training never sees the held-out ones. */
export type PairSet = "seen" | "held-out" | "all";

export type SceneOptions = {
  pairs?: PairSet;
  /** Force a pair (must belong to `pairs`, unless `pairs` is "all"). */
  pair?: Pair;
  count?: 1 | 2 | 3;
  /** Exact output size; otherwise `megapixels` with a random aspect, otherwise a small random size. */
  width?: number;
  height?: number;
  megapixels?: number;
  /** Range for the shorter side when no size is asked for (defaults 224..480). */
  shortSide?: readonly [number, number];
  format?: "jpeg" | "png";
};

export type ShapeObject = {
  cx: number;
  cy: number;
  /** Circumradius in pixels. */
  radius: number;
  rotation: number;
  fill: Rgb;
  /** Star inner/outer radius ratio; triangle height/base ratio and apex offset; square corner rounding. */
  starInner: number;
  triangleHeight: number;
  triangleApex: number;
  cornerRound: number;
  squash: number;
};

export type Background =
  | { kind: "plain"; name: string; rgb: Rgb }
  | { kind: "linear" | "radial"; name: string; rgb: Rgb; to: Rgb; angle: number };

export type Texture =
  | { kind: "none" }
  | { kind: "stripes" | "dots" | "grid"; spacing: number; opacity: number };

export type Scene = {
  colour: Colour;
  shape: Shape;
  count: number;
  width: number;
  height: number;
  background: Background;
  texture: Texture;
  objects: ShapeObject[];
  /** 0 = tiny … 1 = fills the frame; used by captions ("small", "large"). */
  relativeSize: number;
  outline: { width: number; rgb: Rgb; opacity: number } | null;
  shadow: { dx: number; dy: number; opacity: number; blur: number } | null;
  crispEdges: boolean;
  blurSigma: number;
  noiseSigma: number;
  format: "jpeg" | "png";
  jpegQuality: number;
};

const ASPECTS = [1, 1, 4 / 3, 3 / 4, 3 / 2, 2 / 3, 16 / 9, 9 / 16, 5 / 4, 4 / 5, 2, 1 / 2];

function chooseSize(options: SceneOptions, rng: Rng): { width: number; height: number } {
  if (options.width && options.height) return { width: options.width, height: options.height };
  const aspect = rng.pick(ASPECTS);
  if (options.megapixels) {
    const pixels = options.megapixels * 1e6;
    const width = Math.round(Math.sqrt(pixels * aspect));
    return { width, height: Math.round(width / aspect) };
  }
  const [lo, hi] = options.shortSide ?? [224, 480];
  const short = rng.int(lo, hi);
  return aspect >= 1
    ? { width: Math.round(short * aspect), height: short }
    : { width: short, height: Math.round(short / aspect) };
}

function choosePair(options: SceneOptions, rng: Rng): Pair {
  if (options.pair) {
    if (options.pairs !== "all" && isHeldOut(options.pair) !== (options.pairs === "held-out"))
      throw new Error(
        `pair ${options.pair.colour} ${options.pair.shape} is not in the "${options.pairs ?? "seen"}" set`,
      );
    return options.pair;
  }
  const set = options.pairs ?? "seen";
  const pool = set === "seen" ? SEEN_PAIRS : set === "all" ? ALL_PAIRS : ALL_PAIRS.filter(isHeldOut);
  return rng.pick(pool);
}

function chooseBackground(colour: Colour, fill: Rgb, rng: Rng): Background {
  for (;;) {
    const choice = rng.chance(0.75) ? rng.pick(BACKGROUNDS.slice(0, 12)) : rng.pick(BACKGROUNDS);
    if (!backgroundAllowed(choice.name, colour)) continue;
    const rgb = jitterRgb(hexToRgb(rng.pick(choice.shades)), rng, 12);
    if (colourDistance(rgb, fill) < 160) continue;
    if (rng.chance(0.65)) return { kind: "plain", name: choice.name, rgb };
    // Gradient towards a lighter or darker version of the same background, so its name still holds.
    const shift = rng.range(-60, 60);
    const to = jitterRgb([rgb[0] + shift, rgb[1] + shift, rgb[2] + shift], rng, 10);
    if (colourDistance(to, fill) < 160) continue;
    return {
      kind: rng.chance(0.7) ? "linear" : "radial",
      name: choice.name,
      rgb,
      to,
      angle: rng.range(0, 360),
    };
  }
}

function jitterRgb(rgb: Rgb, rng: Rng, amount: number): Rgb {
  const c = (v: number) => Math.max(0, Math.min(255, v + rng.range(-amount, amount)));
  return [c(rgb[0]), c(rgb[1]), c(rgb[2])];
}

/** Places `count` non-overlapping objects inside the central square (CLIP centre-crops to it). */
function placeObjects(count: number, square: number, offsetX: number, offsetY: number, rng: Rng) {
  const maxRadius = count === 1 ? 0.36 : count === 2 ? 0.22 : 0.17;
  const minRadius = count === 1 ? 0.11 : 0.09;
  const relative = rng.range(minRadius, maxRadius);
  for (let attempt = 0; ; attempt++) {
    const scale = attempt > 200 ? 0.85 ** Math.floor(attempt / 200) : 1;
    const placed: { cx: number; cy: number; radius: number }[] = [];
    for (let i = 0; i < count; i++) {
      const radius = square * relative * scale * rng.range(0.85, 1.15);
      const margin = radius * 1.05 + square * 0.03;
      const cx = offsetX + rng.range(margin, square - margin);
      const cy = offsetY + rng.range(margin, square - margin);
      if (placed.some((p) => Math.hypot(p.cx - cx, p.cy - cy) < (p.radius + radius) * 1.12)) break;
      placed.push({ cx, cy, radius });
    }
    if (placed.length === count) return { placed, relativeSize: (relative * scale - 0.09) / (0.36 - 0.09) };
  }
}

export function sampleScene(rng: Rng, options: SceneOptions = {}): Scene {
  const { colour, shape } = choosePair(options, rng);
  const count = options.count ?? rng.pick([1, 1, 2, 3] as const);
  const { width, height } = chooseSize(options, rng);
  const square = Math.min(width, height);
  const { placed, relativeSize } = placeObjects(
    count,
    square,
    (width - square) / 2,
    (height - square) / 2,
    rng,
  );

  // One shade and one set of proportions per sample (objects are "of one shape and colour"), tiny per-object wobble.
  const fill = objectRgb(colour, rng);
  const starInner = rng.range(0.32, 0.62);
  const triangleHeight = rng.range(0.7, 1.15);
  const triangleApex = rng.chance(0.75) ? 0 : rng.range(-0.6, 0.6);
  const cornerRound = rng.chance(0.6) ? 0 : rng.range(0.02, 0.2);
  const baseRotation = rng.chance(0.4) ? 0 : rng.range(-22, 22);
  const objects = placed.map((p) => ({
    ...p,
    rotation: baseRotation + (count > 1 ? rng.range(-6, 6) : 0),
    fill: jitterRgb(fill, rng, 3),
    starInner,
    triangleHeight,
    triangleApex,
    cornerRound,
    squash: rng.range(0.95, 1.05),
  }));

  const background = chooseBackground(colour, fill, rng);
  const texture: Texture = rng.chance(0.7)
    ? { kind: "none" }
    : {
        kind: rng.pick(["stripes", "dots", "grid"] as const),
        spacing: rng.range(0.02, 0.08) * square,
        opacity: rng.range(0.04, 0.16),
      };
  const outlineShade = rng.chance(0.5) ? 0 : 1;
  const outline = rng.chance(0.3)
    ? {
        width: rng.range(0.01, 0.05) * square * relativeSize + 1,
        rgb: outlineShade ? ([fill[0] * 0.55, fill[1] * 0.55, fill[2] * 0.55] as Rgb) : ([20, 20, 20] as Rgb),
        opacity: rng.range(0.5, 1),
      }
    : null;
  const shadow = rng.chance(0.2)
    ? {
        dx: rng.range(-0.02, 0.03) * square,
        dy: rng.range(0.005, 0.035) * square,
        opacity: rng.range(0.12, 0.35),
        blur: rng.chance(0.5) ? rng.range(1, 4) : 0,
      }
    : null;
  const format = options.format ?? (rng.chance(0.85) ? "jpeg" : "png");
  return {
    colour,
    shape,
    count,
    width,
    height,
    background,
    texture,
    objects,
    relativeSize,
    outline,
    shadow,
    crispEdges: rng.chance(0.15),
    blurSigma: rng.chance(0.35) ? rng.range(0.3, 1.6) * Math.max(1, square / 400) : 0,
    noiseSigma: rng.chance(0.5) ? rng.range(1, 12) : 0,
    format,
    jpegQuality: rng.int(25, 95),
  };
}
