import { createRoute, z } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import type { App } from "../context.ts";
import { ROUTE_ERRORS } from "../openapi/problems.ts";
import { addRoute } from "../openapi/route.ts";

/** Where the reference's script is served from: the Worker's static assets (tools/docs-assets.ts copies it there). */
export const DOCS_SCRIPT_PATH = "/docs/standalone.js";

export const docsRoute = createRoute({
  method: "get",
  path: "/docs",
  operationId: "apiReference",
  tags: ["Meta"],
  summary: "Interactive API reference",
  description: `An interactive reference (Scalar) rendered in the browser from /openapi.json, with try-it-out against
this server: paste an API key under Authentication. Every asset is served by this Worker; nothing loads from a CDN.`,
  security: [],
  responses: {
    200: {
      description: "The reference's HTML page.",
      content: { "text/html": { schema: z.string(), example: "<!doctype html>…" } },
    },
  },
});

// Scalar's defaults reach out (a CDN for the script, Google Fonts, telemetry): the local stack is offline, and a
// reference page should not tell a third party who reads it.
const renderReference = Scalar({
  url: "/openapi.json",
  cdn: DOCS_SCRIPT_PATH,
  withDefaultFonts: false,
  telemetry: false,
  pageTitle: "clip-edge API reference",
});

/** `GET /docs` (see `description`). */
export function registerDocs(app: App): void {
  addRoute(
    app,
    docsRoute,
    ROUTE_ERRORS.any,
    // The middleware is typed for a plain Hono context and only renders HTML from its config; it answers and never
    // calls next.
    (c) => renderReference(c as unknown as Parameters<typeof renderReference>[0], async () => {}) as never,
  );
}
