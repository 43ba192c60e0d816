import type { Context } from "hono";
import { API_LIMITS } from "../../../src/api/index.ts";
import {
  type AddressAllowList,
  checkImageUrl as checkUrlText,
  classifyAddress,
  exemptedByAllowList,
} from "../../../src/net/index.ts";
import type { Inference } from "../inference.ts";
import type { CallBudget, Outcome } from "../upstream.ts";

/** An image URL's bytes, or why the URL is the caller's problem (the GPU tier's verdict, passed on). */
export type FetchedImage =
  | { ok: true; bytes: Uint8Array }
  | { ok: false; code: "invalid_image_url" | "image_too_large"; message: string };

export interface ImageUrls {
  /** Why the URL may not be fetched, from its text alone (before any work); undefined when it may be tried. */
  check(url: string): string | undefined;
  /** Downloads it on the GPU tier within the request's budget; upstream trouble is a failure, the URL's a value. */
  fetch(url: string, budget: CallBudget): Promise<Outcome<FetchedImage>>;
}

export interface ImageUrlOptions {
  inference: Inference;
  /** The edge's own host name: no image URL may name it. */
  ownHost: string;
  /**
   * The GPU backends' host names: no URL may name them, nor (checked on the GPU tier) resolve to their addresses.
   * The edge's own name is not sent there: on a CDN its addresses are shared with countless other sites.
   */
  backendHosts: readonly string[];
  /** Non-public addresses the operator allows (IMAGE_URL_ALLOW, to match the GPU tier's URL_FETCH_ALLOW). */
  allow: AddressAllowList;
}

// Leaves the GPU call time to answer after the download's own timeout, within the request's deadline.
const ANSWER_MARGIN_MS = 500;

/**
 * Image URLs are never fetched by the edge: a Worker cannot see what a host name resolves to, so it could be made to
 * reach loopback or private addresses behind an innocent name. The edge refuses what the text already shows (not
 * https, credentials, a local name, a non-public IP literal, its own or a backend's host) and hands the rest to the
 * GPU tier, which resolves the name, vets every address, and connects to exactly the vetted one (gpu-service/fetch).
 *
 * @example const got = await urls.fetch("https://example.com/cat.jpg", scope); if (got.ok && got.value.ok) got.value.bytes
 */
export function imageUrls(options: ImageUrlOptions): ImageUrls {
  const vetAddress = (address: string) =>
    classifyAddress(address).public || exemptedByAllowList(address, options.allow)
      ? undefined
      : "not a public address";
  return {
    check: (url) => checkUrlText(url, { denyHosts: [options.ownHost, ...options.backendHosts], vetAddress }),
    fetch: (url, budget) =>
      options.inference.fetchImage(
        url,
        {
          maxBytes: API_LIMITS.maxImageBytes,
          maxRedirects: API_LIMITS.maxRedirects,
          timeoutMs: Math.max(
            100,
            Math.min(API_LIMITS.urlTimeoutMs, budget.deadline - Date.now() - ANSWER_MARGIN_MS),
          ),
          denyHosts: options.backendHosts,
        },
        budget,
      ),
  };
}

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
