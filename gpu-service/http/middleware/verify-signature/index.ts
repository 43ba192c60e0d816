import type { MiddlewareHandler } from "hono";
import { secretMatchesAny } from "../../../../src/crypto/secrets-equal.ts";
import { readFrameBody } from "../../../../src/protocol/index.ts";
import { signedPathOf, verifyRequest } from "../../../../src/signing/index.ts";
import { problem } from "../../problem.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The request body, read once (within the size limit) because the signature covers its hash. */
    body: Uint8Array;
  }
}

export interface VerifySignatureOptions {
  /** Accepted secrets; more than one lets the edge rotate without downtime. */
  secrets: readonly string[];
  maxBodyBytes: number;
  windowSeconds?: number;
  /**
   * Static bearer tokens also accepted (`Authorization: Bearer …`), for callers that cannot sign: a Prometheus scraper,
   * or Hugging Face's gateway when this container runs as an Inference Endpoint. Empty by default.
   */
  bearerTokens?: readonly string[];
}

/**
 * Reads the body (refusing it past `maxBodyBytes` before reading further) and checks the edge's HMAC signature over
 * timestamp, method, path with query, and body hash — or one of the configured bearer tokens. Anything unsigned,
 * stale or tampered gets 401; nothing about the expected signature is echoed.
 *
 * @example app.use("/v1/*", verifySignature({ secrets: [process.env.GPU_SHARED_SECRET], maxBodyBytes: 96 << 20 }))
 */
export function verifySignature(options: VerifySignatureOptions): MiddlewareHandler {
  if (options.secrets.length === 0) throw new Error("verifySignature needs at least one secret");
  const secrets = [...options.secrets];
  const bearerTokens = [...(options.bearerTokens ?? [])];
  return async function verifySignatureMiddleware(c, next) {
    const body = await readFrameBody(c.req.raw.body, {
      maxBytes: options.maxBodyBytes,
      contentLength: c.req.header("content-length"),
    });
    if (!body.ok) {
      return body.code === "limit_exceeded"
        ? problem(c, "payload_too_large", body.message)
        : problem(c, "malformed_frame", body.message);
    }
    const bearer = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1];
    if (bearer !== undefined && bearerTokens.length > 0 && (await secretMatchesAny(bearer, bearerTokens))) {
      c.set("body", body.value);
      return next();
    }
    const verdict = await verifyRequest({
      secret: secrets,
      method: c.req.method,
      path: signedPathOf(c.req.url),
      body: body.value,
      headers: c.req.raw.headers,
      windowSeconds: options.windowSeconds,
    });
    if (!verdict.ok) return problem(c, "unauthorized", verdict.message);
    c.set("body", body.value);
    await next();
  };
}
