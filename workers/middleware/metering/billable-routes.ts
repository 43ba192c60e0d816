import type { Context } from "hono";
import { matchedRoutes, routePath } from "hono/route";
import type { QuotaPrecheck } from "../../billing/key-meter/types.ts";

/**
 * What each billable route needs left of the month's quota to be worth running, by method and route template (as
 * the OpenAPI document spells it). Only spares work: the exact checks happen when a request reserves its units and
 * when its usage is committed, whatever this table says. Routes not listed (GET /v1/models, GET /v1/usage, or a new
 * route nobody added here) are still rate-limited and, if they bill, still checked exactly.
 */
const PRECHECKS: Record<string, QuotaPrecheck> = {
  "POST /v1/classify": { all: ["images", "texts"] },
  "POST /v1/captions": { all: ["images"] },
  "POST /v1/embeddings": { any: ["images", "texts"] },
  // Creating a collection uses no quota (storage is a limit, checked by the route).
  "PUT /v1/collections/{name}": {},
  // Every item upserted is an item write; an image or a text item also needs images or texts, but an embedding
  // item needs neither, so only item writes are sure to be needed.
  "POST /v1/collections/{name}/items": { all: ["item_writes"] },
  "POST /v1/collections/{name}/query": { all: ["queries"] },
};

/** @example precheckFor("POST", "/v1/collections/{name}/query") → { all: ["queries"] } */
export function precheckFor(method: string, template: string | undefined): QuotaPrecheck | undefined {
  return template === undefined ? undefined : PRECHECKS[`${method} ${template}`];
}

const METHOD_ALL = "ALL";

/**
 * A Hono route path as a template in the OpenAPI document's spelling, without its parameters' patterns.
 *
 * @example routeTemplate("/v1/collections/:name/items/:id") === "/v1/collections/{name}/items/{id}"
 */
export function routeTemplate(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?\??/g, "{$1}");
}

/**
 * The template of the route that answers this request (`/v1/collections/{name}/items`, never the path with a
 * customer's collection name in it). Before the handler runs it is the first handler route matched after the current
 * middleware; after it, the route that answered. A request no handler matched (404) gets the middleware's own
 * pattern, e.g. `/v1/*`.
 *
 * @example app.use("/v1/*", async (c, next) => { await next(); billedRoute(c) }) // "/v1/collections/{name}/query"
 */
export function billedRoute(c: Context): string {
  const routes = matchedRoutes(c);
  const current = routes[c.req.routeIndex];
  const handler =
    current && current.method !== METHOD_ALL
      ? current
      : routes.slice(c.req.routeIndex + 1).find((route) => route.method !== METHOD_ALL);
  return routeTemplate(handler?.path ?? routePath(c));
}
