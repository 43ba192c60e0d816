import type { Context } from "hono";
import { GPU_PROBLEM_STATUS, type GpuProblemCode } from "../../src/protocol/index.ts";

/** The service's error codes: the list both tiers share (src/protocol/gpu-replies.ts). */
export type ServiceErrorCode = GpuProblemCode;

/**
 * An RFC 9457 problem response. `retryAfterSeconds` adds Retry-After, which the edge's client honours when it picks
 * another backend or waits.
 */
export function problem(
  c: Context,
  code: ServiceErrorCode,
  detail: string,
  retryAfterSeconds?: number,
): Response {
  const status = GPU_PROBLEM_STATUS[code];
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (retryAfterSeconds !== undefined)
    headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfterSeconds)));
  return c.body(
    JSON.stringify({ type: `urn:clip-edge:gpu:${code}`, title: code, status, code, detail }),
    status,
    headers,
  );
}
