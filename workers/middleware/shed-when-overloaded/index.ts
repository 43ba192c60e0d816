import type { MiddlewareHandler } from "hono";
import { ApiError } from "../../errors.ts";

/**
 * Refuses a GPU-bound request at once, before its body is parsed or its key's limits are touched, when the GPU calls
 * it would make could not finish within its deadline (by the backends' recent answer rates, as the GPU client sheds
 * each call). Under overload the edge then spends nothing on work it would fail late, and the answer is an honest
 * 503 with the expected wait as Retry-After. Not billed, not rate-counted.
 *
 * @example app.use("/v1/*", apiKeyAuth()); app.use("/v1/*", shedWhenOverloaded({ "/v1/classify": "/v1/embed/images" }))
 */
export function shedWhenOverloaded(
  gpuPathOf: Readonly<Record<string, string>>,
): MiddlewareHandler<{ Bindings: Env }> {
  return async function shedWhenOverloadedMiddleware(c, next) {
    const gpuPath = c.req.method === "POST" ? gpuPathOf[new URL(c.req.url).pathname] : undefined;
    if (gpuPath) {
      const services = c.get("services");
      const wait = services.gpu.wouldMissDeadline(gpuPath, c.get("scope").remainingMs());
      if (wait !== undefined)
        throw new ApiError(
          "gpu_unavailable",
          "the GPU tier is overloaded: this request would miss its deadline",
          {
            retryAfterSeconds: wait / 1000,
          },
        );
    }
    await next();
  };
}
