import { createRoute, type z } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  ClassifyFields,
  ClassifyMultipart,
  ClassifyRequest,
  ClassifyResponse,
  DEFAULT_TEMPLATES,
  EXAMPLES,
} from "../../src/api/index.ts";
import type { App } from "../context.ts";
import { allImagesFailed } from "../errors.ts";
import { billUsage, usageOf } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import {
  checkMultipart,
  imageSources,
  integerField,
  listField,
  readMultipart,
} from "../request/images-from-request.ts";
import { bodyKind, parseJson, readBodyBytes, validate } from "../request/read-body.ts";
import { modelHeaders, truncationWarnings } from "../responses.ts";
import { imageUrlsOf } from "../services/images/image-urls.ts";
import { type ImageSource, resolveImages } from "../services/images/resolve-images.ts";
import type { Services } from "../services/index.ts";
import { usableLabelSet } from "../services/label-sets/usable-label-set.ts";
import { rankLabels } from "../services/rank-labels.ts";
import type { EmbeddedTexts } from "../services/text-embeddings/text-embedding-service.ts";
import { textRequest } from "../services/text-embeddings/text-request.ts";
import { failed, servedOrThrow, succeeded, type UpstreamFailure } from "../services/upstream.ts";

interface ClassifyInput {
  images: ImageSource[];
  labels: string[];
  templates: string[];
  topK: number;
  /** With `label_set`: its stored embeddings, instead of embedding `labels` through `templates`. */
  saved?: EmbeddedTexts;
}

const description = `Zero-shot labels for 1–16 images. Each label is embedded through prompt templates and the results
are averaged (the CLIP paper's ensembling); each image is compared with every label: \`score\` is the softmax over the
labels at the model's logit scale (sums to 1), \`similarity\` the raw cosine. Labels come back best first, cut at
\`top_k\`. An image that fails is reported in its result and not billed; the request fails (422) only when all do.
JSON or multipart/form-data (\`image\` file parts, \`labels\` and \`templates\` as repeated fields). With
\`label_set\` (a saved set's id) instead of \`labels\`, the set's stored embeddings answer the same scores, with no
text computed or read from the cache.`;

export const classifyRoute = createRoute({
  method: "post",
  path: "/v1/classify",
  operationId: "classify",
  tags: ["Vision"],
  summary: "Label images zero-shot",
  description,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    body: {
      required: true,
      content: {
        "application/json": { schema: ClassifyRequest, example: EXAMPLES.classifyRequest },
        "multipart/form-data": { schema: ClassifyMultipart },
      },
    },
  },
  responses: {
    200: jsonResponse(
      ClassifyResponse,
      "Labels for each image, in request order.",
      EXAMPLES.classifyResponse,
      v1Headers({ model: true, post: true }),
    ),
  },
});

/** `POST /v1/classify` (see `description`). */
export function registerV1Classify(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.multipart, E.images, E.gpu, [
    "all_inputs_failed",
    "label_set_not_found",
    "label_set_not_ready",
    "model_mismatch",
  ]);
  addRoute(app, classifyRoute, errors, async (c) => {
    const services = c.get("services");
    const scope = c.get("scope");
    const input = await readClassifyInput(c);
    const images = servedOrThrow(await resolveImages(input.images, imageUrlsOf(c), scope));
    const saved = input.saved;
    const answer = await scope.all([
      (budget) =>
        saved
          ? Promise.resolve(succeeded(saved))
          : services.texts.embedLabels(input.labels, input.templates, textRequest(c, budget)),
      (budget) => services.inference.embedImages(images, budget),
    ]);
    // A saved set's scores are the served model's: another model's answer would not be them, so no fallback for it.
    if (!answer.ok && answer.failure.code === "gpu_unavailable" && services.hf && !saved) {
      const body = await classifyOnHuggingFace(c, services, input, images, answer.failure);
      return c.json(body, 200, { "x-clip-model": body.model, "x-clip-preprocessing": body.preprocessing });
    }
    const [labels, items] = servedOrThrow(answer);
    const okImages = items.filter((item) => item.ok).length;
    // None succeeded, so every item carries its failure.
    if (okImages === 0) throw allImagesFailed(items as { code: string; message: string }[]);
    const warnings = truncationWarnings(labels.truncated, (i) => `/labels/${i}`, "label");
    const body: ClassifyResponse = {
      model: services.model.id,
      preprocessing: services.model.preprocessing.version,
      provider: "gpu",
      results: items.map((item) =>
        rankLabels(item, input.labels, input.topK, labels.embeddings, services.model.logitScale),
      ),
      usage: billUsage(c, usageOf(okImages, labels)),
      ...(warnings.length ? { warnings } : {}),
    };
    return c.json(body, 200, modelHeaders(services));
  });
}

/** The hosted fallback, within what is left of the request's deadline. */
async function classifyOnHuggingFace(
  c: Context,
  services: Services,
  input: ClassifyInput,
  images: Uint8Array[],
  gpuFailure: UpstreamFailure,
): Promise<ClassifyResponse> {
  const hf = services.hf as NonNullable<Services["hf"]>;
  const scope = c.get("scope");
  const signal = AbortSignal.any([scope.signal, AbortSignal.timeout(Math.max(1, scope.remainingMs()))]);
  const template = input.templates[0] ?? "a photo of a {}.";
  const results = await Promise.all(
    images.map(async (image): Promise<ClassifyResponse["results"][number]> => {
      try {
        const ranked = await hf.classify(image, input.labels, template, signal);
        return {
          labels: ranked.slice(0, input.topK).map(({ label, score }) => ({ label, score, similarity: null })),
        };
      } catch (error) {
        return {
          labels: [],
          error: {
            code: "upstream_error",
            message: signal.aborted
              ? "the hosted fallback did not answer within the request's deadline"
              : `the hosted fallback failed: ${(error as Error).message}`,
          },
        };
      }
    }),
  );
  const served = results.filter((r) => !r.error).length;
  // Both failed: the GPU tier's own Retry-After says when trying again may help.
  if (served === 0)
    servedOrThrow(
      failed(
        "gpu_unavailable",
        "no GPU backend answered and the hosted fallback failed",
        gpuFailure.retryAfterSeconds,
      ),
    );
  return {
    model: services.config.HF_MODEL ?? services.config.HF_ENDPOINT_URL ?? "huggingface",
    preprocessing: "huggingface",
    provider: "huggingface",
    results,
    usage: billUsage(c, usageOf(served, { computed: input.labels.length, cached: 0 })),
  };
}

async function readClassifyInput(c: Context): Promise<ClassifyInput> {
  const kind = bodyKind(c, true);
  const bytes = await readBodyBytes(c);
  let images: ImageSource[];
  let request: z.infer<typeof ClassifyFields>;
  if (kind === "json") {
    const body = validate(ClassifyRequest, parseJson(bytes));
    images = imageSources(body.images, (i) => `/images/${i}`);
    request = body;
  } else {
    const multipart = await readMultipart(bytes, c.req.header("content-type") ?? "");
    checkMultipart(multipart, ["labels", "templates", "label_set", "top_k"]);
    images = multipart.images;
    request = validate(ClassifyFields, {
      labels: listField(multipart.fields, "labels"),
      templates: listField(multipart.fields, "templates"),
      label_set: multipart.fields.get("label_set")?.[0],
      top_k: integerField(multipart.fields, "top_k"),
    });
  }
  if (request.label_set !== undefined) {
    const { set, embedded } = await usableLabelSet(c, request.label_set);
    const topK = request.top_k ?? set.labels.length;
    return { images, labels: set.labels, templates: set.templates, topK, saved: embedded };
  }
  const labels = request.labels as string[];
  const templates = request.templates ?? [...DEFAULT_TEMPLATES];
  return { images, labels, templates, topK: request.top_k ?? labels.length };
}
