import type { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { COLLECTION_LIMITS, type UpsertItemError } from "../../../src/api/collections.ts";
import type { ImageInput } from "../../../src/api/index.ts";
import { API_LIMITS, imageItemError } from "../../../src/api/index.ts";
import { ApiError } from "../../errors.ts";
import { imageSources } from "../../request/images-from-request.ts";
import { imageUrlsOf } from "../images/image-urls.ts";
import { type ImageSource, resolveImages } from "../images/resolve-images.ts";
import type { EmbeddedItem } from "../inference.ts";
import { textRequest } from "../text-embeddings/text-request.ts";
import { servedOrThrow, succeeded } from "../upstream.ts";

type ItemFailure = z.infer<typeof UpsertItemError>;

/** What an item (or a query) gives to embed: a text, an image, or its own vector. */
export type VectorSource =
  | { kind: "text"; text: string }
  | { kind: "image"; image: ImageInput; pointer: string }
  | { kind: "vector"; vector: number[] };

export interface Embedded {
  vectors: (Float32Array | ItemFailure)[];
  images: number;
  texts: { computed: number; cached: number };
}

/**
 * Embeds a batch of sources with the served model, each failing alone: texts through the cache, images resolved and
 * embedded in one GPU batch (a bad image is that item's error), given vectors checked for dimension and unit length
 * and normalised. A GPU tier that cannot answer fails the whole request (retryable), as elsewhere.
 */
export async function embedSources(c: Context, sources: readonly VectorSource[]): Promise<Embedded> {
  const services = c.get("services");
  const dim = services.model.embeddingDim;
  const vectors: (Float32Array | ItemFailure)[] = new Array(sources.length);
  const texts: { index: number; text: string }[] = [];
  const images: { index: number; source: ImageSource }[] = [];
  for (const [index, source] of sources.entries()) {
    if (source.kind === "text") texts.push({ index, text: source.text });
    else if (source.kind === "image")
      images.push({ index, source: imageSources([source.image], () => source.pointer)[0] as ImageSource });
    else vectors[index] = checkedVector(source.vector, dim);
  }
  const resolved = await resolveEach(
    c,
    images.map((i) => i.source),
  );
  const toEmbed: { index: number; bytes: Uint8Array }[] = [];
  for (const [k, image] of images.entries()) {
    const outcome = resolved[k];
    if (outcome instanceof Uint8Array) toEmbed.push({ index: image.index, bytes: outcome });
    else vectors[image.index] = outcome as ItemFailure;
  }
  const scope = c.get("scope");
  const [embeddedTexts, embeddedImages] = servedOrThrow(
    await scope.all([
      (budget) =>
        texts.length
          ? services.texts.embedTexts(
              texts.map((t) => t.text),
              textRequest(c, budget),
            )
          : Promise.resolve(succeeded({ embeddings: [], truncated: [], computed: 0, cached: 0 })),
      (budget) =>
        toEmbed.length
          ? services.inference.embedImages(
              toEmbed.map((i) => i.bytes),
              budget,
            )
          : Promise.resolve(succeeded<EmbeddedItem[]>([])),
    ]),
  );
  for (const [k, { index }] of texts.entries()) vectors[index] = embeddedTexts.embeddings[k] as Float32Array;
  let okImages = 0;
  for (const [k, { index }] of toEmbed.entries()) {
    const item = embeddedImages[k];
    if (item?.ok) {
      vectors[index] = item.embedding;
      okImages++;
    } else
      vectors[index] = { code: imageItemError(item?.code ?? "internal_error"), message: item?.message ?? "" };
  }
  return {
    vectors,
    images: okImages,
    texts: { computed: embeddedTexts.computed, cached: embeddedTexts.cached },
  };
}

function checkedVector(vector: readonly number[], dim: number): Float32Array | ItemFailure {
  if (vector.length !== dim)
    return {
      code: "dimension_mismatch",
      message: `the collection's vectors have ${dim} dimensions, not ${vector.length}`,
    };
  const norm = Math.hypot(...vector);
  if (!Number.isFinite(norm) || Math.abs(norm - 1) > COLLECTION_LIMITS.unitTolerance)
    return { code: "not_unit_length", message: `the embedding's length is ${norm.toFixed(4)}, not 1` };
  return Float32Array.from(vector, (x) => x / norm);
}

/**
 * Resolves each image alone, all at once: an image with its own problem (bad base64, not an image, a URL we may not
 * fetch) is that item's failure and costs the others nothing — no image is fetched twice. The request's byte limit
 * then holds for the images together (413 for the request), and a GPU tier that cannot download fails it (retryable).
 */
async function resolveEach(
  c: Context,
  sources: readonly ImageSource[],
): Promise<(Uint8Array | ItemFailure)[]> {
  const urls = imageUrlsOf(c);
  const scope = c.get("scope");
  const settled = await Promise.allSettled(
    sources.map(async (source) => servedOrThrow(await resolveImages([source], urls, scope))[0] as Uint8Array),
  );
  const out = settled.map((s, index): Uint8Array | ItemFailure => {
    if (s.status === "fulfilled") return s.value;
    const error = s.reason;
    const own = error instanceof ApiError && error.options.errors?.[0]?.pointer === sources[index]?.pointer;
    if (!own) throw error;
    return { code: error.code as ItemFailure["code"], message: error.message };
  });
  const total = out.reduce((sum, bytes) => sum + (bytes instanceof Uint8Array ? bytes.length : 0), 0);
  if (total > API_LIMITS.maxTotalImageBytes)
    throw new ApiError(
      "image_too_large",
      `the images total ${total} bytes; the limit per request is ${API_LIMITS.maxTotalImageBytes}`,
    );
  return out;
}

const IMAGE_INPUT_CODES = new Set(["invalid_base64", "not_an_image", "image_too_large", "invalid_image_url"]);

/**
 * A request's one query input (an image or a vector) could not be used: the same problems as for images and bodies
 * elsewhere — the request fails, as it has nothing to compare with.
 */
export function refusedQuery(
  failure: { code: string; message: string } | undefined,
  pointer: string,
): ApiError {
  const code = IMAGE_INPUT_CODES.has(failure?.code ?? "")
    ? (failure?.code as "invalid_base64")
    : pointer === "/image"
      ? "image_decode_failed"
      : "invalid_request";
  return new ApiError(code, `${pointer}: ${failure?.message}`, {
    errors: [{ pointer, detail: `${failure?.code}: ${failure?.message}` }],
  });
}
