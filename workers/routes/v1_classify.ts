import type { Context } from "hono";
import { ClassifyRequest, type ClassifyResponse, DEFAULT_TEMPLATES } from "../../src/api/index.ts";
import type { App } from "../context.ts";
import { allImagesFailed } from "../errors.ts";
import { billUsage, usageOf } from "../middleware/metering/usage.ts";
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
import { rankLabels } from "../services/rank-labels.ts";
import { textRequest } from "../services/text-embeddings/text-request.ts";
import { failed, servedOrThrow, type UpstreamFailure } from "../services/upstream.ts";

interface ClassifyInput {
  images: ImageSource[];
  labels: string[];
  templates: string[];
  topK: number;
}

/**
 * `POST /v1/classify` — zero-shot labels for 1–16 images. Labels are embedded through prompt templates and
 * ensembled (CLIP paper), compared with each image: `score` is the softmax over labels at the model's logit scale,
 * `similarity` the raw cosine. JSON or multipart/form-data.
 */
export function registerV1Classify(app: App): void {
  app.post("/v1/classify", async (c) => {
    const services = c.get("services");
    const scope = c.get("scope");
    const input = await readClassifyInput(c);
    const images = servedOrThrow(await resolveImages(input.images, imageUrlsOf(c), scope));
    const answer = await scope.all([
      (budget) => services.texts.embedLabels(input.labels, input.templates, textRequest(c, budget)),
      (budget) => services.inference.embedImages(images, budget),
    ]);
    if (!answer.ok && answer.failure.code === "gpu_unavailable" && services.hf)
      return classifyOnHuggingFace(c, services, input, images, answer.failure);
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
): Promise<Response> {
  const hf = services.hf as NonNullable<Services["hf"]>;
  const scope = c.get("scope");
  const signal = AbortSignal.any([scope.signal, AbortSignal.timeout(Math.max(1, scope.remainingMs()))]);
  const template = input.templates[0] ?? "a photo of a {}.";
  const results = await Promise.all(
    images.map(async (image) => {
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
  const body: ClassifyResponse = {
    model: services.config.HF_MODEL ?? services.config.HF_ENDPOINT_URL ?? "huggingface",
    preprocessing: "huggingface",
    provider: "huggingface",
    results,
    usage: billUsage(c, usageOf(served, { computed: input.labels.length, cached: 0 })),
  };
  return c.json(body, 200);
}

async function readClassifyInput(c: Context): Promise<ClassifyInput> {
  const kind = bodyKind(c, true);
  const bytes = await readBodyBytes(c);
  if (kind === "json") {
    const request = validate(ClassifyRequest, parseJson(bytes));
    return {
      images: imageSources(request.images, (i) => `/images/${i}`),
      labels: request.labels,
      templates: request.templates ?? [...DEFAULT_TEMPLATES],
      topK: request.top_k ?? request.labels.length,
    };
  }
  const multipart = await readMultipart(bytes, c.req.header("content-type") ?? "");
  checkMultipart(multipart, ["labels", "templates", "top_k"]);
  const { images, fields } = multipart;
  const request = validate(ClassifyRequest.omit({ images: true }), {
    labels: listField(fields, "labels"),
    templates: listField(fields, "templates"),
    top_k: integerField(fields, "top_k"),
  });
  return {
    images,
    labels: request.labels,
    templates: request.templates ?? [...DEFAULT_TEMPLATES],
    topK: request.top_k ?? request.labels.length,
  };
}
