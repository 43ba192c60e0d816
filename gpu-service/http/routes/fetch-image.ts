import type { Context, Hono } from "hono";
import * as z from "zod";
import type { ImageFetcher } from "../../fetch/index.ts";
import type { ServiceDeps } from "../deps.ts";
import { problem } from "../problem.ts";

export const DEFAULT_MAX_REDIRECTS = 3;
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;
export const MAX_DENY_HOSTS = 32;

/** The request body; `max_bytes` is capped by the service's MAX_IMAGE_BYTES. */
export function fetchImageRequestSchema(maxImageBytes: number) {
  return z.strictObject({
    url: z.string().min(1).max(8192),
    max_bytes: z.int().min(1).max(maxImageBytes).optional(),
    max_redirects: z.int().min(0).max(5).default(DEFAULT_MAX_REDIRECTS),
    timeout_ms: z.int().min(100).max(30_000).default(DEFAULT_FETCH_TIMEOUT_MS),
    deny_hosts: z.array(z.string().min(1).max(253)).max(MAX_DENY_HOSTS).default([]),
  });
}
export type FetchImageRequest = z.input<ReturnType<typeof fetchImageRequestSchema>>;

/**
 * `POST /v1/fetch-image` (signed) — downloads an API user's image URL for the edge, which cannot vet DNS answers:
 * JSON `{url, max_bytes?, max_redirects? (0–5, default 3), timeout_ms? (100–30000, default 10000), deny_hosts?
 * (≤ 32 names or IPs)}` → 200 `application/octet-stream` with the bytes and `x-final-url`, or problem+json:
 * 400 `url_not_allowed` (refused before connecting; the detail names why), 422 `url_fetch_failed` (one detail for
 * every network failure, the HTTP status when there was one), 413 `image_too_large`, 400 `invalid_input`.
 * Every failure of the user's URL is a 4xx, so it never counts against this backend. Rules: gpu-service/fetch/.
 */
export function registerFetchImageRoute(app: Hono, deps: ServiceDeps): void {
  const schema = fetchImageRequestSchema(deps.config.image.maxBytes);
  app.post("/v1/fetch-image", (c) => fetchImage(c, deps, schema, deps.imageFetcher));
}

async function fetchImage(
  c: Context,
  deps: ServiceDeps,
  schema: ReturnType<typeof fetchImageRequestSchema>,
  fetcher: ImageFetcher,
): Promise<Response> {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(c.get("body")));
  } catch {
    return problem(c, "invalid_input", "the body is not JSON");
  }
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "body";
    return problem(c, "invalid_input", `${where}: ${issue?.message ?? "invalid"}`);
  }
  const body = parsed.data;
  const got = await fetcher.fetch(
    body.url,
    {
      maxBytes: body.max_bytes ?? deps.config.image.maxBytes,
      maxRedirects: body.max_redirects,
      timeoutMs: body.timeout_ms,
      denyHosts: body.deny_hosts,
    },
    c.req.raw.signal,
  );
  if (!got.ok) return problem(c, got.code, got.message);
  return c.body(got.bytes, 200, { "content-type": "application/octet-stream", "x-final-url": got.finalUrl });
}
