import type { Context, Hono } from "hono";
import { decodeBase64 } from "../../../src/encoding/base64.ts";
import { HeatmapRequest } from "../../../src/protocol/explain.ts";
import { renderHeatmap } from "../../explain/heatmap.ts";
import { preprocessImageRgb } from "../../image/pipeline.ts";
import type { ServiceDeps } from "../deps.ts";
import { problem } from "../problem.ts";

/**
 * `POST /v1/explain/heatmap` (signed): JSON `{image: base64, scores: [[…]]}` — the image sent to
 * `/v1/explain/occlusion` and a square grid (4–14) of scores in [0, 1], row-major as its cells → `image/png`: the crop
 * the model saw, from the EXIF-oriented image, at most 512 px on its long side, with the scores as a red-to-yellow
 * overlay (see overlayRgba). Rendered here because the edge has no image library. An image that fails answers 400
 * `invalid_input` (413 `image_too_large`) naming its code: the edge only sends images the occlusion route took.
 */
export function registerExplainHeatmapRoute(app: Hono, deps: ServiceDeps): void {
  app.post("/v1/explain/heatmap", (c) => explainHeatmap(c, deps));
}

async function explainHeatmap(c: Context, deps: ServiceDeps): Promise<Response> {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(c.get("body")));
  } catch {
    return problem(c, "invalid_input", "the body is not JSON");
  }
  const parsed = HeatmapRequest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return problem(c, "invalid_input", `${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  const bytes = decodeBase64(parsed.data.image);
  if (!bytes || bytes.length === 0) return problem(c, "invalid_input", "image is not valid base64");
  // The pipeline's own geometry (and its checks and limits), so the region drawn is the one the model saw.
  const prepared = await preprocessImageRgb(bytes, deps.model.folder.preprocess, deps.config.image);
  if (!prepared.ok)
    return problem(
      c,
      prepared.code === "image_too_large" ? "image_too_large" : "invalid_input",
      `image: ${prepared.message} (${prepared.code})`,
    );
  const png = await renderHeatmap(bytes, prepared.info, parsed.data.scores, deps.config.image);
  return c.body(png, 200, { "content-type": "image/png" });
}
