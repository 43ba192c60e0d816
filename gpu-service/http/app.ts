import { Hono } from "hono";
import { notReadyReason, type ServiceDeps } from "./deps.ts";
import { admitUntilDrain } from "./middleware/admission/index.ts";
import { verifySignature } from "./middleware/verify-signature/index.ts";
import { problem } from "./problem.ts";
import { registerCaptionsRoute } from "./routes/captions.ts";
import { registerEmbedRoutes } from "./routes/embed-batch.ts";
import { registerExplainHeatmapRoute } from "./routes/explain-heatmap.ts";
import { registerExplainOcclusionRoute } from "./routes/explain-occlusion.ts";
import { registerFetchImageRoute } from "./routes/fetch-image.ts";
import { registerHealthRoutes, registerMetricsRoute } from "./routes/health.ts";
import { registerHfZeroShotRoute } from "./routes/hf-zero-shot.ts";

/** The GPU service's HTTP interface: health (unsigned), then everything else behind the edge's signature. */
export function createServiceApp(deps: ServiceDeps, log: (message: string) => void): Hono {
  const app = new Hono();

  app.use("*", async function recordRequest(c, next) {
    const start = performance.now();
    await next();
    deps.metrics.requestDone(c.req.routePath, c.res.status, (performance.now() - start) / 1000);
  });
  registerHealthRoutes(app, deps);

  // At arrival, before the body is read and the signature checked: whatever is admitted is finished on SIGTERM.
  const admit = admitUntilDrain(deps.lifecycle.requests);
  for (const path of ["/v1/*", "/hf/*"]) app.use(path, admit);
  const signed = verifySignature({
    secrets: deps.config.sharedSecrets,
    bearerTokens: deps.config.bearerTokens,
    maxBodyBytes: deps.config.maxBodyBytes,
  });
  for (const path of ["/v1/*", "/hf/*", "/metrics"]) app.use(path, signed);
  for (const path of ["/v1/*", "/hf/*"]) {
    app.use(path, async function refuseUntilReady(c, next) {
      const notReady = notReadyReason(deps);
      if (notReady) return problem(c, "not_ready", notReady, 1);
      await next();
    });
  }
  registerMetricsRoute(app, deps);
  registerEmbedRoutes(app, deps);
  registerCaptionsRoute(app, deps);
  registerExplainOcclusionRoute(app, deps);
  registerExplainHeatmapRoute(app, deps);
  registerHfZeroShotRoute(app, deps);
  registerFetchImageRoute(app, deps);

  app.notFound((c) => problem(c, "not_found", `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));
  app.onError((error, c) => {
    log(`error on ${c.req.method} ${c.req.routePath}: ${error.message}`);
    return problem(c, "internal_error", "the service failed on this request");
  });
  return app;
}
