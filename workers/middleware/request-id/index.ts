import type { MiddlewareHandler } from "hono";

// A caller's id is kept when it is short and plain, so a phone's retry log and our records line up.
const ACCEPTABLE = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is acceptable, else `req_` + 16 random bytes),
 * exposes it as `c.get("requestId")`, and returns it in `X-Request-Id` on every response, errors included.
 *
 * @example app.use("*", requestId()); app.get("/", (c) => c.text(c.get("requestId")))
 */
export function requestId(): MiddlewareHandler {
  return async function requestIdMiddleware(c, next) {
    const incoming = c.req.header("x-request-id");
    const id = incoming && ACCEPTABLE.test(incoming) ? incoming : newRequestId();
    c.set("requestId", id);
    await next();
    c.header("X-Request-Id", id);
  };
}

export function newRequestId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `req_${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}
