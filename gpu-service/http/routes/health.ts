import type { Hono } from "hono";
import { notReadyReason, type ServiceDeps } from "../deps.ts";
import { problem } from "../problem.ts";

/**
 * `GET /healthz`: the process is alive. `GET /readyz`: the model is loaded and warm, its inference thread is
 * serving (not being replaced after a crash) and the service is not draining — load balancers and the edge's health
 * checks route by it. Neither needs a signature.
 */
export function registerHealthRoutes(app: Hono, deps: ServiceDeps): void {
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const { requests } = deps.lifecycle;
    if (requests.draining) return problem(c, "shutting_down", "draining before exit", 1);
    const notReady = notReadyReason(deps);
    if (notReady) return problem(c, "not_ready", notReady, 1);
    return c.json({
      status: "ready",
      model: deps.model.folder.id,
      providers: deps.model.providers,
      // Admitted and not yet answered, including requests whose body is still arriving.
      requestsInFlight: requests.inFlight,
      queues: { images: deps.images.stats(), texts: deps.texts.stats() },
    });
  });
}

/** `GET /metrics`: Prometheus text (signed, or with a bearer token from GPU_BEARER_TOKENS). */
export function registerMetricsRoute(app: Hono, deps: ServiceDeps): void {
  app.get("/metrics", async (c) => {
    const { contentType, body } = await deps.metrics.render();
    return c.body(body, 200, { "content-type": contentType });
  });
}
