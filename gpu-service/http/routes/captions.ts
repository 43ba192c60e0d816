import type { Context, Hono } from "hono";
import {
  CONTENT_TYPE,
  DEFAULT_CAPTION_TOP_K,
  decodeRequest,
  type GpuCaptionResult,
  type GpuCaptionsReply,
  isFrameContentType,
  MAX_CAPTION_TOP_K,
} from "../../../src/protocol/index.ts";
import type { ServiceDeps } from "../deps.ts";
import { problem } from "../problem.ts";
import { requestDeadline } from "../request-deadline.ts";
import { MAX_IMAGES_PER_FRAME } from "./embed-batch.ts";

/**
 * `POST /v1/captions?top_k=K&deadline_ms=N` (signed; both optional, `deadline_ms` as in the embed routes): the
 * images request frame that `/v1/embed/images` takes → JSON
 * `{model, preprocessing, results: [{status: "ok", captions: [{index, text, score}]} | {status, message}]}`, one
 * result per image in order, captions best first, `score` the cosine similarity. Images join the service-wide image
 * batcher and searches the caption batcher, so concurrent requests share model runs. 404 `no_caption_bank` when the
 * deployment has no bank.
 */
export function registerCaptionsRoute(app: Hono, deps: ServiceDeps): void {
  app.post("/v1/captions", (c) => captions(c, deps));
}

async function captions(c: Context, deps: ServiceDeps): Promise<Response> {
  const finder = deps.captions;
  if (!finder) return problem(c, "no_caption_bank", "this deployment has no caption bank");
  const topK = parseTopK(c.req.query("top_k"));
  if (typeof topK === "string") return problem(c, "invalid_input", topK);
  if (!isFrameContentType(c.req.header("content-type")))
    return problem(c, "unsupported_media_type", `send ${CONTENT_TYPE}`);
  const frame = decodeRequest(c.get("body"), { maxItems: MAX_IMAGES_PER_FRAME });
  if (!frame.ok) {
    if (frame.code === "limit_exceeded")
      return problem(c, "invalid_input", `at most ${MAX_IMAGES_PER_FRAME} images: ${frame.message}`);
    return problem(
      c,
      frame.code === "unsupported_version" ? "unsupported_version" : "malformed_frame",
      frame.message,
    );
  }
  if (frame.value.kind !== "images")
    return problem(c, "invalid_input", `this route takes images, the frame holds ${frame.value.kind}`);

  const deadline = requestDeadline(c, deps);
  if (deadline instanceof Response) return deadline;
  const { signal, problemFor } = deadline;
  const count = frame.value.images.length;
  // Each image is embedded, then searched: the two queues one after the other.
  const late = deadline.shedIfLate(deps.images.estimate(count), finder.estimate(count));
  if (late) return late;
  const settled = await Promise.allSettled(
    frame.value.images.map(async (bytes): Promise<GpuCaptionResult> => {
      const embedded = await deps.images.embed(bytes, signal);
      if (!embedded.ok) return { status: embedded.code, message: embedded.message };
      return { status: "ok", captions: await finder.find(embedded.embedding, topK, signal) };
    }),
  );
  const failure = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  // A search can also be refused by shutdown: an image embedded just before it, searched after the queue closed.
  if (failure) return problemFor(failure.reason) ?? Promise.reject(failure.reason);
  const body: GpuCaptionsReply = {
    model: deps.model.folder.id,
    preprocessing: deps.preprocessingVersion,
    results: settled.map((s) => (s as PromiseFulfilledResult<GpuCaptionResult>).value),
  };
  return c.json(body);
}

/** `top_k` from the query string: absent → the default, else an integer in 1..MAX_CAPTION_TOP_K, or a message. @example parseTopK("3") === 3 */
export function parseTopK(value: string | undefined): number | string {
  if (value === undefined || value === "") return DEFAULT_CAPTION_TOP_K;
  const k = Number(value);
  if (!/^\d+$/.test(value) || k < 1 || k > MAX_CAPTION_TOP_K)
    return `top_k must be an integer in 1..${MAX_CAPTION_TOP_K}, got "${value}"`;
  return k;
}
