import type { MiddlewareHandler } from "hono";
import { secretsEqual } from "../../../src/crypto/secrets-equal.ts";
import { ApiError } from "../../errors.ts";
import { bearerToken } from "../api-key/index.ts";

/**
 * Requires `Authorization: Bearer <ADMIN_TOKEN>` (a secret: `.dev.vars` locally, `wrangler secret put ADMIN_TOKEN`
 * in production), compared in constant time. No token is a 401; a wrong one, or any token while ADMIN_TOKEN is
 * unset, is a 403.
 *
 * @example app.use("/admin/*", adminAuth())
 */
export function adminAuth(): MiddlewareHandler<{ Bindings: Env }> {
  return async function adminAuthMiddleware(c, next) {
    const presented = bearerToken(c);
    if (presented === undefined)
      throw new ApiError("missing_api_key", "send Authorization: Bearer <ADMIN_TOKEN>", {
        headers: { "www-authenticate": 'Bearer realm="clip-edge-admin"' },
      });
    if (!(await secretsEqual(presented, c.get("services").billing.config.adminToken)))
      throw new ApiError("forbidden", "the admin token is not valid");
    await next();
  };
}
