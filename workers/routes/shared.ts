import type { Context, Hono } from "hono";
import type { Usage, Warning } from "../../src/api/index.ts";
import { reportRange } from "../../src/billing/index.ts";
import { waitUntilOf } from "../context.ts";
import { ApiError } from "../errors.ts";
import type { RequestScope } from "../middleware/request-scope/index.ts";
import { type ImageUrls, imageUrls } from "../services/images/image-urls.ts";
import type { Services } from "../services/index.ts";
import { CacheWrites, KV_WRITES_PER_REQUEST } from "../services/text-embeddings/cache-writes.ts";
import type { TextRequest } from "../services/text-embeddings/text-embedding-service.ts";
import type { CallBudget } from "../services/upstream.ts";

export type App = Hono<{ Bindings: Env }>;

/**
 * What the text cache needs from a request: its budget (or a child of it), its `waitUntil`, and its one share of KV
 * writes, made once the request has answered.
 */
export function textRequest(c: Context, budget: CallBudget = c.get("scope")): TextRequest {
  const scope = c.get("scope");
  let cacheWrites = writesOf.get(scope);
  if (!cacheWrites) {
    const writes = new CacheWrites(KV_WRITES_PER_REQUEST, waitUntilOf(c));
    scope.afterAnswer(() => writes.start());
    writesOf.set(scope, writes);
    cacheWrites = writes;
  }
  return { budget, waitUntil: waitUntilOf(c), cacheWrites };
}

const writesOf = new WeakMap<RequestScope, CacheWrites>();

/** How this request's image URLs are checked and fetched (on the GPU tier, never by the edge itself). */
export function imageUrlsOf(c: Context): ImageUrls {
  const services = c.get("services");
  return imageUrls({
    inference: services.inference,
    ownHost: new URL(c.req.url).hostname,
    backendHosts: services.gpu.hosts(),
    allow: services.config.IMAGE_URL_ALLOW,
  });
}

export function truncationWarnings(
  truncated: readonly boolean[],
  pointer: (i: number) => string,
  what: "label" | "text",
): Warning[] {
  return truncated.flatMap((cut, i) =>
    cut
      ? [
          {
            code: `${what}_truncated` as const,
            message: `cut to the model's context of 77 tokens`,
            pointer: pointer(i),
          },
        ]
      : [],
  );
}

/** Usage of a request, for its response and its billing record. */
export function usageOf(images: number, texts: { computed: number; cached: number }): Usage {
  return { images, texts_computed: texts.computed, texts_cached: texts.cached };
}

/** Records a successful request's usage for metering, and returns it for the response body. */
export function billUsage(c: Context, usage: Usage): Usage {
  c.set("usage", usage);
  return usage;
}

/** Headers every successful answer carries, so results can be reproduced. */
export function modelHeaders(services: Services): Record<string, string> {
  return { "x-clip-model": services.model.id, "x-clip-preprocessing": services.model.preprocessing.version };
}

/** 422 `all_inputs_failed`: every image of the request failed on the GPU tier (nothing is billed). In request order. */
export function allImagesFailed(failures: readonly { code: string; message: string }[]): ApiError {
  const errors = failures.map(({ code, message }, i) => ({
    pointer: `/images/${i}`,
    detail: `${code}: ${message}`,
  }));
  return new ApiError("all_inputs_failed", "no image could be decoded; nothing was billed", { errors });
}

/** A usage report's [from, to) in ms from its query; a bad or inverted range is a 400 with a pointer. */
export function reportRangeOf(
  query: { from?: string; to?: string },
  now = Date.now(),
): { from: number; to: number } {
  const range = reportRange(query.from, query.to, now);
  if (!range.ok)
    throw new ApiError("invalid_request", `${range.pointer.slice(1)} ${range.detail}`, {
      errors: [{ pointer: range.pointer, detail: range.detail }],
    });
  return range;
}
