import type { Hook, RouteConfig, RouteHandler } from "@hono/zod-openapi";
import type { Handler } from "hono";
import type * as z from "zod";
import type { ErrorCode } from "../../src/api/index.ts";
import type { App, AppEnv } from "../context.ts";
import { invalidRequest } from "../request/read-body.ts";
import { type HeaderName, headerRefs } from "./components.ts";
import { problemResponses } from "./problems.ts";

/**
 * The app's validation hook: should a route ever use the library's own validators (`app.openapi`), their failure
 * is our 400 problem, never the library's `{ success: false, error }` body.
 */
export const problemOnInvalid: Hook<unknown, AppEnv, string, unknown> = (result) => {
  if (!result.success) throw invalidRequest(result.error.issues);
};

/** A JSON success response: its schema, a description, an example and the headers it always carries. */
export function jsonResponse<S extends z.ZodType>(
  schema: S,
  description: string,
  example: unknown,
  headers: HeaderName[] = ["XRequestId"],
) {
  return {
    description,
    headers: headerRefs(...headers),
    content: { "application/json": { schema, example } },
  };
}

/** The headers of a successful /v1 answer (`model`: it names the model; `post`: it may be a replay). */
export function v1Headers({ model = false, post = false } = {}): HeaderName[] {
  return [
    "XRequestId",
    "RateLimitPolicy",
    "RateLimit",
    ...(model ? (["XClipModel", "XClipPreprocessing"] as const) : []),
    ...(post ? (["IdempotentReplayed"] as const) : []),
  ];
}

/**
 * Registers a route: its definition (with its error responses) in the app's OpenAPI registry, and its handler on
 * its method and path. The handler is typed from the definition's success responses, so a body that does not match
 * the declared schema does not compile. Requests are read by our own capped readers (`request/`), not the library's
 * validators: the declared request body is documentation and types, and its input is deliberately not typed here
 * (`c.req.valid()` would be empty).
 */
export function addRoute<R extends RouteConfig & { getRoutingPath(): string }>(
  app: App,
  route: R,
  errors: readonly ErrorCode[],
  // biome-ignore lint/complexity/noBannedTypes: an empty input: nothing is validated by the library.
  handler: RouteHandler<R, AppEnv, {}>,
): void {
  // Route-level middleware would be skipped here; the app's middleware is the one place for it.
  if (route.middleware) throw new Error(`${route.method} ${route.path}: addRoute takes no route middleware`);
  const { getRoutingPath, ...definition } = route;
  app.openAPIRegistry.registerPath({
    ...definition,
    responses: { ...definition.responses, ...problemResponses(errors) },
  } as RouteConfig);
  app.on(route.method.toUpperCase(), getRoutingPath.call(route), handler as unknown as Handler<AppEnv>);
}
