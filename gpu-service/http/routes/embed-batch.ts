import type { Context, Hono } from "hono";
import {
  CONTENT_TYPE,
  decodeRequest,
  encodeResponse,
  isFrameContentType,
  type ResponseItem,
} from "../../../src/protocol/index.ts";
import type { EmbedOutcome } from "../../embedders/types.ts";
import type { ServiceDeps } from "../deps.ts";
import { problem } from "../problem.ts";
import { requestDeadline } from "../request-deadline.ts";

// Images are heavy, so a frame carries at most one model batch of them; texts are light, and a classify request
// with many labels sends all its cache misses at once (the batcher cuts them into model batches).
export const MAX_IMAGES_PER_FRAME = 64;
export const MAX_TEXTS_PER_FRAME = 1024;

/**
 * `POST /v1/embed/images` and `POST /v1/embed/texts` (optionally `?deadline_ms=N`, the time the caller has left): one
 * signed batch frame in, one frame out with an embedding or an error code per item. Items join the service-wide
 * batchers, so concurrent requests share GPU batches; a request the backlog would make miss its deadline is refused
 * at once with 503 `shed` instead of failing late.
 */
export function registerEmbedRoutes(app: Hono, deps: ServiceDeps): void {
  app.post("/v1/embed/images", (c) => embedBatch(c, deps, "images"));
  app.post("/v1/embed/texts", (c) => embedBatch(c, deps, "texts"));
}

async function embedBatch(c: Context, deps: ServiceDeps, kind: "images" | "texts"): Promise<Response> {
  if (!isFrameContentType(c.req.header("content-type"))) {
    return problem(c, "unsupported_media_type", `send ${CONTENT_TYPE}`);
  }
  const frame = decodeRequest(c.get("body"), { maxItems: MAX_TEXTS_PER_FRAME });
  if (!frame.ok)
    return problem(
      c,
      frame.code === "unsupported_version" ? "unsupported_version" : "malformed_frame",
      frame.message,
    );
  if (frame.value.kind !== kind)
    return problem(c, "invalid_input", `this route takes ${kind}, the frame holds ${frame.value.kind}`);
  if (frame.value.kind === "images" && frame.value.images.length > MAX_IMAGES_PER_FRAME) {
    return problem(c, "invalid_input", `at most ${MAX_IMAGES_PER_FRAME} images per request`);
  }

  const deadline = requestDeadline(c, deps);
  if (deadline instanceof Response) return deadline;
  const { signal, problemFor } = deadline;
  const request = frame.value;
  const late =
    request.kind === "images"
      ? deadline.shedIfLate(deps.images.estimate(request.images.length))
      : deadline.shedIfLate(deps.texts.estimate(request.texts.length));
  if (late) return late;
  const pending =
    request.kind === "images"
      ? request.images.map((bytes) => deps.images.embed(bytes, signal))
      : request.texts.map((ids) => deps.texts.embed(ids, signal));
  const settled = await Promise.allSettled(pending);

  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (failure) return problemFor(failure.reason) ?? Promise.reject(failure.reason);
  const items = settled.map((s) => toItem((s as PromiseFulfilledResult<EmbedOutcome>).value));
  const encoded = encodeResponse(
    {
      dtype: request.dtype,
      dim: deps.model.embeddingDim,
      modelId: deps.model.folder.id,
      preprocessingVersion: deps.preprocessingVersion,
      items,
    },
    { maxItems: MAX_TEXTS_PER_FRAME },
  );
  if (!encoded.ok) throw new Error(`encoding the response failed: ${encoded.message}`);
  return c.body(encoded.value, 200, { "content-type": CONTENT_TYPE });
}

function toItem(outcome: EmbedOutcome): ResponseItem {
  return outcome.ok
    ? { status: "ok", embedding: outcome.embedding }
    : { status: outcome.code, message: outcome.message };
}
