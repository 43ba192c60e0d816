import type { Context, MiddlewareHandler } from "hono";
import type { ErrorCode } from "../../../src/api/index.ts";
import { hashApiKey, isWellFormedApiKey } from "../../../src/billing/index.ts";
import { waitUntilOf } from "../../context.ts";
import { ApiError } from "../../errors.ts";

const REALM = 'Bearer realm="clip-edge"';

/**
 * Requires `Authorization: Bearer clip_live_…` and sets `c.get("apiKey")`. Missing, malformed, unknown and revoked
 * keys each get their own 401 problem with a `WWW-Authenticate` challenge (RFC 6750), before anything is metered.
 * The key is looked up by its SHA-256 (memory → KV → D1, see KeyDirectory), so timing says nothing about how much of
 * a guess matched a real key. A revoked key is also refused by its Durable Object, at once.
 *
 * @example app.use("/v1/*", apiKeyAuth())
 */
export function apiKeyAuth(): MiddlewareHandler<{ Bindings: Env }> {
  return async function apiKeyAuthMiddleware(c, next) {
    const presented = bearerToken(c);
    if (presented === undefined)
      throw refused("missing_api_key", "send Authorization: Bearer <your API key>");
    if (!isWellFormedApiKey(presented))
      throw refused("malformed_api_key", "API keys look like clip_live_ followed by 43 letters and digits");
    const billing = c.get("services").billing;
    const now = Date.now();
    const waitUntil = waitUntilOf(c);
    const key = await billing.directory.lookup(await hashApiKey(presented), now, waitUntil);
    if (!key) throw refused("invalid_api_key", "this API key is not known");
    if (key.status !== "active") throw refused("revoked_api_key", "this API key was revoked");
    c.set("apiKey", key);
    billing.directory.touch(key, now, waitUntil);
    await next();
  };
}

/** The token of an `Authorization: Bearer` header; "" for another scheme or an empty token; undefined if absent. */
export function bearerToken(c: Context): string | undefined {
  const header = c.req.header("authorization");
  if (header === undefined) return undefined;
  const match = /^Bearer[ ]+(\S*)[ ]*$/i.exec(header);
  return match?.[1] ?? "";
}

/** A 401 with the challenge RFC 6750 asks for: no error attribute when no credentials came. */
export function refused(code: ErrorCode, detail: string): ApiError {
  const challenge = code === "missing_api_key" ? REALM : `${REALM}, error="invalid_token"`;
  return new ApiError(code, detail, { headers: { "www-authenticate": challenge } });
}
