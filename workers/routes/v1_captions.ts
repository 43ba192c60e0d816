import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  CaptionsMultipart,
  CaptionsRequest,
  CaptionsResponse,
  EXAMPLES,
  imageItemError,
} from "../../src/api/index.ts";
import { DEFAULT_CAPTION_TOP_K } from "../../src/protocol/index.ts";
import type { App } from "../context.ts";
import { allImagesFailed } from "../errors.ts";
import { billUsage, usageOf } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { checkMultipart, imageSources, integerField, readMultipart } from "../request/images-from-request.ts";
import { bodyKind, parseJson, readBodyBytes, validate } from "../request/read-body.ts";
import { modelHeaders } from "../responses.ts";
import { imageUrlsOf } from "../services/images/image-urls.ts";
import { type ImageSource, resolveImages } from "../services/images/resolve-images.ts";
import { servedOrThrow } from "../services/upstream.ts";

export const captionsRoute = createRoute({
  method: "post",
  path: "/v1/captions",
  operationId: "caption",
  tags: ["Vision"],
  summary: "Caption images by retrieval",
  description: `For each of 1–16 images, the nearest texts of the deployment's caption bank (embedded once with the
same model), best first; \`score\` is the cosine similarity. An image that fails is reported in its result and not
billed. JSON or multipart/form-data, like /v1/classify. 404 \`no_caption_bank\` when the deployment has none.`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: CaptionsRequest, example: EXAMPLES.captionsRequest },
        "multipart/form-data": { schema: CaptionsMultipart },
      },
    },
  },
  responses: {
    200: jsonResponse(
      CaptionsResponse,
      "Captions for each image, in request order.",
      EXAMPLES.captionsResponse,
      v1Headers({ model: true, post: true }),
    ),
  },
});

/** `POST /v1/captions` (see `description`; the bank is searched on the GPU tier, docs/captions.md). */
export function registerV1Captions(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.multipart, E.images, E.gpu, [
    "all_inputs_failed",
    "no_caption_bank",
  ]);
  addRoute(app, captionsRoute, errors, async (c) => {
    const services = c.get("services");
    const { images: sources, topK } = await readCaptionsInput(c);
    const images = servedOrThrow(await resolveImages(sources, imageUrlsOf(c), c.get("scope")));
    const results = servedOrThrow(await services.inference.captions(images, topK, c.get("scope")));
    const served = results.filter((r) => r.status === "ok").length;
    if (served === 0) {
      throw allImagesFailed(
        // None was served, so every result is an error.
        results.flatMap((r) => (r.status === "ok" ? [] : [{ code: r.status, message: r.message }])),
      );
    }
    const body: CaptionsResponse = {
      model: services.model.id,
      preprocessing: services.model.preprocessing.version,
      results: results.map((r) =>
        r.status === "ok"
          ? { captions: r.captions.map(({ text, score }) => ({ text, score })) }
          : { captions: [], error: { code: imageItemError(r.status), message: r.message } },
      ),
      usage: billUsage(c, usageOf(served, { computed: 0, cached: 0 })),
    };
    return c.json(body, 200, modelHeaders(services));
  });
}

async function readCaptionsInput(c: Context): Promise<{ images: ImageSource[]; topK: number }> {
  const kind = bodyKind(c, true);
  const bytes = await readBodyBytes(c);
  if (kind === "json") {
    const request = validate(CaptionsRequest, parseJson(bytes));
    return {
      images: imageSources(request.images, (i) => `/images/${i}`),
      topK: request.top_k ?? DEFAULT_CAPTION_TOP_K,
    };
  }
  const multipart = await readMultipart(bytes, c.req.header("content-type") ?? "");
  checkMultipart(multipart, ["top_k"]);
  const { images, fields } = multipart;
  const request = validate(CaptionsRequest.omit({ images: true }), { top_k: integerField(fields, "top_k") });
  return { images, topK: request.top_k ?? DEFAULT_CAPTION_TOP_K };
}
