import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ErrorCode } from "../../../src/api/index.ts";
import { ApiError, problemResponse } from "../../errors.ts";

/**
 * The one error handler, in four tiers: our ApiErrors keep their code (and their info-level note, if any, is logged);
 * a known fault of a dependency becomes the ApiError one of `faults` makes of it (a database that is down: 503);
 * Hono's HTTP exceptions map to the nearest code; anything else is logged (message only — never request bodies or
 * secrets) and answered with a plain 500.
 */
export function handleError(
  log: (line: string) => void = console.error,
  info: (line: string) => void = console.info,
  faults: readonly ((error: unknown) => ApiError | undefined)[] = [],
): ErrorHandler {
  return function problemErrorHandler(thrown, c) {
    let error = thrown;
    for (const fault of faults) error = fault(error) ?? error;
    if (error instanceof ApiError) {
      if (error.options.log) info(`[${c.get("requestId") ?? "?"}] ${error.options.log}`);
      return problemResponse(c, error.code, error.message, error.options);
    }
    if (error instanceof HTTPException) {
      const code: ErrorCode =
        error.status === 413
          ? "payload_too_large"
          : error.status === 404
            ? "not_found"
            : error.status >= 500
              ? "internal_error"
              : "invalid_request";
      return problemResponse(c, code, error.message || "the request was refused");
    }
    const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (c.req.raw.signal?.aborted) {
      // The client went away and the runtime cut the request's I/O short: nobody reads this answer, nothing is billed.
      info(`[${c.get("requestId") ?? "?"}] the client went away (${what}); request dropped`);
      return problemResponse(c, "internal_error", "the client went away before the answer");
    }
    log(`[${c.get("requestId") ?? "?"}] unhandled ${what}`);
    return problemResponse(
      c,
      "internal_error",
      "something failed on our side; the request id identifies it in our logs",
    );
  };
}

/**
 * 404 for unknown paths; 405 with `Allow` for a known path asked with another method, parameterised routes included
 * (`GET /admin/keys/key_1/revoke` is a 405 naming POST).
 */
export function notFound(routes: () => readonly { method: string; path: string }[]): NotFoundHandler {
  return function problemNotFound(c) {
    const path = new URL(c.req.url).pathname;
    const allowed = [
      ...new Set(
        routes()
          .filter((r) => r.method !== "ALL" && routeMatches(r.path, path))
          .map((r) => r.method),
      ),
    ];
    if (allowed.length > 0) {
      return problemResponse(
        c,
        "method_not_allowed",
        `${path} takes ${allowed.join(", ")}, not ${c.req.method}`,
        {
          headers: { allow: allowed.join(", ") },
        },
      );
    }
    return problemResponse(c, "not_found", `no route for ${c.req.method} ${path}`);
  };
}

/**
 * Whether a route's path names this concrete path: literal segments, and `:name` or `:name{regex}` parameters for one
 * non-empty segment each (the forms our routes use; the trailing-slash and wildcard rules of Hono's router are not).
 *
 * @example routeMatches("/admin/keys/:id/revoke", "/admin/keys/key_1/revoke") === true
 */
function routeMatches(route: string, path: string): boolean {
  const want = route.split("/");
  const got = path.split("/");
  return (
    want.length === got.length &&
    want.every((segment, i) => {
      const value = got[i] as string;
      if (!segment.startsWith(":")) return segment === value;
      const pattern = /^:\w+\{(.+)\}$/.exec(segment)?.[1];
      return value !== "" && (pattern === undefined || new RegExp(`^(?:${pattern})$`).test(value));
    })
  );
}
