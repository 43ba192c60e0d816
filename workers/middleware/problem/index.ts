import type { ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ErrorCode } from "../../../src/api/index.ts";
import { ApiError, problemResponse } from "../../errors.ts";

/**
 * The one error handler, in three tiers: our ApiErrors keep their code (and their info-level note, if any, is logged);
 * Hono's HTTP exceptions map to the nearest code; anything else is logged (message only — never request bodies or
 * secrets) and answered with a plain 500.
 */
export function handleError(
  log: (line: string) => void = console.error,
  info: (line: string) => void = console.info,
): ErrorHandler {
  return function problemErrorHandler(error, c) {
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

/** 404 for unknown paths; 405 with `Allow` for a known path asked with another method. */
export function notFound(routes: () => readonly { method: string; path: string }[]): NotFoundHandler {
  return function problemNotFound(c) {
    const path = new URL(c.req.url).pathname;
    const allowed = [
      ...new Set(
        routes()
          .filter((r) => r.path === path && r.method !== "ALL")
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
