import { createRoute, z } from "@hono/zod-openapi";
import type { App } from "../context.ts";
import { openApiDocument, SERVERS } from "../openapi/document.ts";
import { ROUTE_ERRORS } from "../openapi/problems.ts";
import { addRoute, jsonResponse } from "../openapi/route.ts";

const OpenApiDocument = z
  .looseObject({ openapi: z.string(), info: z.looseObject({ title: z.string(), version: z.string() }) })
  .meta({ id: "OpenApiDocument", description: "An OpenAPI 3.1 document." });

export const openApiJsonRoute = createRoute({
  method: "get",
  path: "/openapi.json",
  operationId: "openApiDocument",
  tags: ["Meta"],
  summary: "This API's OpenAPI document",
  description: `The OpenAPI 3.1 document of every route, generated from the route definitions the edge serves with
(generate clients from it; \`npm run openapi\` writes the same document to docs/openapi.json). No key needed.`,
  security: [],
  responses: {
    200: jsonResponse(OpenApiDocument, "The document.", {
      openapi: "3.1.0",
      info: { title: "clip-edge", version: "0.1.0" },
    }),
  },
});

/** `GET /openapi.json` (see `description`): the serving origin is listed first among the servers. */
export function registerOpenApiJson(app: App): void {
  addRoute(app, openApiJsonRoute, ROUTE_ERRORS.any, (c) => {
    const origin = new URL(c.req.url).origin;
    const servers = [
      { url: origin, description: "This server" },
      ...SERVERS.filter((server) => server.url !== origin),
    ];
    const document = { ...openApiDocument(app), servers } as unknown as z.infer<typeof OpenApiDocument>;
    return c.json(document, 200, { "cache-control": "public, max-age=300" });
  });
}
