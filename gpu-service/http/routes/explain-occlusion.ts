import type { Context, Hono } from "hono";
import {
  EXPLAIN_GEOMETRY_HEADER,
  MAX_OCCLUSION_ITEMS,
  occlusionCells,
  parseExplainGrid,
} from "../../../src/protocol/explain.ts";
import {
  CONTENT_TYPE,
  decodeRequest,
  type EmbeddingDtype,
  encodeResponse,
  isFrameContentType,
  type ResponseItem,
} from "../../../src/protocol/index.ts";
import type { EmbedOutcome } from "../../embedders/types.ts";
import { occludedInput, occlusionGeometry } from "../../explain/occlusion.ts";
import { preprocessImage } from "../../image/pipeline.ts";
import type { ServiceDeps } from "../deps.ts";
import { problem } from "../problem.ts";
import { requestDeadline } from "../request-deadline.ts";

/**
 * `POST /v1/explain/occlusion?grid=G&deadline_ms=N` (signed): an images request frame holding exactly one image →
 * the embeddings response frame of `G² + 1` unit vectors — the unoccluded image first, then the image with each cell
 * of a G×G grid over the model's input hidden, row-major — and the geometry (image size after EXIF orientation, the
 * crop the model saw, the grid) as JSON in the `x-clip-explain-geometry` header; `occlusionCells` turns it into every
 * cell's box in the photo's pixels. The image is decoded and resized once; the variants are written into the batch
 * tensors of the service-wide image batcher, so they share model runs, queue limits and shedding with /v1/embed/images.
 * An image that fails answers, as there, a one-item frame with its status (and no geometry).
 */
export function registerExplainOcclusionRoute(app: Hono, deps: ServiceDeps): void {
  app.post("/v1/explain/occlusion", (c) => explainOcclusion(c, deps));
}

async function explainOcclusion(c: Context, deps: ServiceDeps): Promise<Response> {
  const grid = parseExplainGrid(c.req.query("grid"));
  if (typeof grid === "string") return problem(c, "invalid_input", grid);
  if (!isFrameContentType(c.req.header("content-type")))
    return problem(c, "unsupported_media_type", `send ${CONTENT_TYPE}`);
  const frame = decodeRequest(c.get("body"), { maxItems: 1 });
  if (!frame.ok) {
    if (frame.code === "limit_exceeded") return problem(c, "invalid_input", "send exactly one image");
    return problem(
      c,
      frame.code === "unsupported_version" ? "unsupported_version" : "malformed_frame",
      frame.message,
    );
  }
  if (frame.value.kind !== "images")
    return problem(c, "invalid_input", `this route takes images, the frame holds ${frame.value.kind}`);
  const [bytes] = frame.value.images as [Uint8Array];
  const { dtype } = frame.value;

  const deadline = requestDeadline(c, deps);
  if (deadline instanceof Response) return deadline;
  const { signal, problemFor } = deadline;
  const late = deadline.shedIfLate(deps.images.estimate(grid * grid + 1));
  if (late) return late;

  const preprocess = deps.model.folder.preprocess;
  const prepared = await preprocessImage(bytes, preprocess, deps.config.image);
  if (!prepared.ok) {
    deps.metrics.itemFailed("image", prepared.code);
    return frameReply(c, deps, dtype, [{ status: prepared.code, message: prepared.message }]);
  }
  const geometry = occlusionGeometry(prepared.info, grid);
  const variants = [undefined, ...occlusionCells(geometry)].map((cell) =>
    deps.images.embedPrepared(occludedInput(prepared.pixels, cell, preprocess.outputWidth), signal),
  );
  const settled = await Promise.allSettled(variants);
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) return problemFor(failure.reason) ?? Promise.reject(failure.reason);
  const items = settled.map((s): ResponseItem => {
    const outcome = (s as PromiseFulfilledResult<EmbedOutcome>).value;
    // Prepared pixels cannot fail as an image; a failure here is the model's.
    if (!outcome.ok) throw new Error(`an occluded variant failed: ${outcome.message}`);
    return { status: "ok", embedding: outcome.embedding };
  });
  return frameReply(c, deps, dtype, items, { [EXPLAIN_GEOMETRY_HEADER]: JSON.stringify(geometry) });
}

function frameReply(
  c: Context,
  deps: ServiceDeps,
  dtype: EmbeddingDtype,
  items: ResponseItem[],
  headers: Record<string, string> = {},
): Response {
  const encoded = encodeResponse(
    {
      dtype,
      dim: deps.model.embeddingDim,
      modelId: deps.model.folder.id,
      preprocessingVersion: deps.preprocessingVersion,
      items,
    },
    { maxItems: MAX_OCCLUSION_ITEMS },
  );
  if (!encoded.ok) throw new Error(`encoding the response failed: ${encoded.message}`);
  return c.body(encoded.value, 200, { "content-type": CONTENT_TYPE, ...headers });
}
