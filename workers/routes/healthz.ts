import type { App } from "../context.ts";

/**
 * `GET /healthz` — the edge is up; names the model, shows this isolate's event-loop lag (running average of what API
 * requests measured) and each GPU backend's circuit, without calling them.
 */
export function registerHealthz(app: App): void {
  app.get("/healthz", (c) => {
    const services = c.get("services");
    return c.json({
      status: "ok",
      model: services.model.id,
      preprocessing: services.model.preprocessing.version,
      event_loop_lag_ms: Math.round(services.eventLoop.averageMs),
      gpu_backends: services.gpu
        .snapshot()
        .map(({ circuit, outstanding }, i) => ({ backend: i, circuit, outstanding })),
    });
  });
}
