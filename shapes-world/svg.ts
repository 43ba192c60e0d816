/**
 * Scene → SVG text. librsvg (through sharp) rasterises it; everything geometric lives here.
 */
import { rgbToCss } from "./palette.ts";
import type { Background, Scene, ShapeObject, Texture } from "./scene.ts";

const f = (v: number) => v.toFixed(2);

/** Outline of one object as an SVG element, centred on the origin (the caller translates and rotates). */
export function shapeElement(shape: Scene["shape"], object: ShapeObject, attributes: string): string {
  const r = object.radius;
  switch (shape) {
    case "circle":
      return `<ellipse cx="0" cy="0" rx="${f(r * object.squash)}" ry="${f(r / object.squash)}" ${attributes}/>`;
    case "square": {
      // A square of circumradius r has side r·√2; drawn slightly smaller so its area matches the other shapes.
      const side = r * Math.SQRT2 * 0.9;
      const rx = side * object.cornerRound;
      return `<rect x="${f(-side / 2)}" y="${f(-side / 2)}" width="${f(side)}" height="${f(side)}" rx="${f(rx)}" ${attributes}/>`;
    }
    case "triangle": {
      const base = r * 1.85;
      const height = base * object.triangleHeight;
      const apexX = (object.triangleApex * base) / 2;
      const top = -height * 0.58;
      const bottom = height * 0.42;
      const points = [
        [apexX, top],
        [base / 2, bottom],
        [-base / 2, bottom],
      ];
      return `<polygon points="${points.map(([x, y]) => `${f(x ?? 0)},${f(y ?? 0)}`).join(" ")}" ${attributes}/>`;
    }
    case "star": {
      const points: string[] = [];
      for (let i = 0; i < 10; i++) {
        const radius = i % 2 === 0 ? r : r * object.starInner;
        const angle = -Math.PI / 2 + (i * Math.PI) / 5;
        points.push(`${f(radius * Math.cos(angle))},${f(radius * Math.sin(angle) + r * 0.08)}`);
      }
      return `<polygon points="${points.join(" ")}" ${attributes}/>`;
    }
  }
}

function backgroundDefs(background: Background): { defs: string; fill: string } {
  if (background.kind === "plain") return { defs: "", fill: rgbToCss(background.rgb) };
  const from = rgbToCss(background.rgb);
  const to = rgbToCss(background.to);
  if (background.kind === "radial") {
    return {
      defs: `<radialGradient id="bg" cx="50%" cy="50%" r="75%"><stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></radialGradient>`,
      fill: "url(#bg)",
    };
  }
  const a = (background.angle * Math.PI) / 180;
  const x = Math.cos(a) / 2;
  const y = Math.sin(a) / 2;
  return {
    defs: `<linearGradient id="bg" x1="${f(0.5 - x)}" y1="${f(0.5 - y)}" x2="${f(0.5 + x)}" y2="${f(0.5 + y)}"><stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient>`,
    fill: "url(#bg)",
  };
}

/**
 * Background texture as one path: librsvg renders SVG <pattern> fills about ten times slower than a single long
 * path, and data generation time is part of the training budget.
 */
function textureLayer(texture: Texture, width: number, height: number, ink: string): string {
  if (texture.kind === "none") return "";
  const s = texture.spacing;
  const d: string[] = [];
  if (texture.kind === "stripes") {
    for (let x = -height; x < width; x += s) d.push(`M${f(x)},${height}L${f(x + height)},0`);
    return `<path d="${d.join("")}" stroke="${ink}" stroke-width="${f(s / 4)}" opacity="${f(texture.opacity)}"/>`;
  }
  if (texture.kind === "grid") {
    for (let x = 0; x < width; x += s) d.push(`M${f(x)},0V${height}`);
    for (let y = 0; y < height; y += s) d.push(`M0,${f(y)}H${width}`);
    return `<path d="${d.join("")}" stroke="${ink}" stroke-width="${f(Math.max(1, s / 10))}" opacity="${f(texture.opacity)}"/>`;
  }
  // Dots: zero-length segments with round caps.
  for (let y = s / 2; y < height; y += s) for (let x = s / 2; x < width; x += s) d.push(`M${f(x)},${f(y)}h0`);
  return `<path d="${d.join("")}" stroke="${ink}" stroke-width="${f(s / 3)}" stroke-linecap="round" opacity="${f(texture.opacity)}"/>`;
}

export function sceneToSvg(scene: Scene): string {
  const { width, height } = scene;
  const bg = backgroundDefs(scene.background);
  const bgLight = scene.background.rgb[0] + scene.background.rgb[1] + scene.background.rgb[2] > 384;
  const parts: string[] = [bg.defs ? `<defs>${bg.defs}</defs>` : ""];
  parts.push(`<rect width="${width}" height="${height}" fill="${bg.fill}"/>`);
  parts.push(textureLayer(scene.texture, width, height, bgLight ? "#000" : "#fff"));
  const rendering = scene.crispEdges ? ' shape-rendering="crispEdges"' : "";
  if (scene.shadow) {
    // A soft shadow as a few growing, fainter copies: feGaussianBlur is slow in librsvg.
    const { dx, dy, opacity, blur } = scene.shadow;
    const layers = blur > 0 ? 3 : 1;
    for (let layer = 0; layer < layers; layer++) {
      for (const o of scene.objects) {
        const grow = 1 + (layer * blur) / Math.max(8, o.radius);
        const t = `translate(${f(o.cx + dx)},${f(o.cy + dy)}) rotate(${f(o.rotation)}) scale(${f(grow)})`;
        parts.push(
          `<g transform="${t}">${shapeElement(scene.shape, o, `fill="#000" fill-opacity="${f(opacity / layers)}"`)}</g>`,
        );
      }
    }
  }
  for (const o of scene.objects) {
    const stroke = scene.outline
      ? ` stroke="${rgbToCss(scene.outline.rgb)}" stroke-width="${f(scene.outline.width)}" stroke-opacity="${f(scene.outline.opacity)}" stroke-linejoin="round"`
      : "";
    const t = `translate(${f(o.cx)},${f(o.cy)}) rotate(${f(o.rotation)})`;
    parts.push(
      `<g transform="${t}">${shapeElement(scene.shape, o, `fill="${rgbToCss(o.fill)}"${stroke}${rendering}`)}</g>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join("")}</svg>`;
}
