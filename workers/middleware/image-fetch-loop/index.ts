import type { MiddlewareHandler } from "hono";
import { isImageFetcher } from "../../../src/net/index.ts";
import { ApiError } from "../../errors.ts";

/**
 * Refuses requests made by our own image fetcher (the GPU tier downloading a user's image URL): such a URL named
 * this API — by a name the edge's text check could not know, e.g. a CNAME — and must not be served or looped.
 * The download then fails like any URL that answers an error.
 *
 * @example app.use("*", refuseOwnImageFetches())
 */
export function refuseOwnImageFetches(): MiddlewareHandler {
  return async function refuseOwnImageFetchesMiddleware(c, next) {
    if (isImageFetcher(c.req.header("user-agent")))
      throw new ApiError("forbidden", "image URLs may not point at this API");
    await next();
  };
}
