import { createRoute } from "@hono/zod-openapi";
import { Health } from "../../src/api/index.ts";
import type { App } from "../context.ts";
import { ROUTE_ERRORS } from "../openapi/problems.ts";
import { addRoute, jsonResponse } from "../openapi/route.ts";

export const healthzRoute = createRoute({
  method: "get",
  path: "/healthz",
  operationId: "health",
  tags: ["Meta"],
  summary: "Is the edge up",
  description: `The edge is up; names the model, shows this isolate's event-loop lag (running average of what API
requests measured) and each GPU backend's circuit, without calling them. No key needed.`,
  security: [],
  responses: {
    200: jsonResponse(Health, "The edge is up.", {
      status: "ok",
      model: "clip-edge/tiny-clip",
      preprocessing: "pil-exact-2+a6ecfc7f1c",
      event_loop_lag_ms: 0,
      gpu_backends: [{ backend: 0, circuit: "closed", outstanding: 0 }],
    }),
  },
});

/** `GET /healthz` (see `description`). */
export function registerHealthz(app: App): void {
  addRoute(app, healthzRoute, ROUTE_ERRORS.any, (c) => {
    const services = c.get("services");
    return c.json(
      {
        status: "ok" as const,
        model: services.model.id,
        preprocessing: services.model.preprocessing.version,
        event_loop_lag_ms: Math.round(services.eventLoop.averageMs),
        gpu_backends: services.gpu
          .snapshot()
          .map(({ circuit, outstanding }, i) => ({ backend: i, circuit, outstanding })),
      },
      200,
    );
  });
}
