/**
 * The User-Agent the GPU tier sends on every image-URL download. The edge refuses any request that carries it: a URL
 * that leads back to the API — under any of its names, a CNAME, another route to the same Worker — ends there at
 * once, so an image download can never loop through the API or use it to reach anything.
 */
export const IMAGE_FETCH_USER_AGENT = "clip-edge-image-fetch/1";

/** Whether a request's User-Agent is our own image fetcher's. */
export function isImageFetcher(userAgent: string | null | undefined): boolean {
  return (userAgent ?? "").startsWith("clip-edge-image-fetch/");
}
