import type { MiddlewareHandler } from "hono";
import { closeStores } from "../../services/collections/request-stores.ts";

/**
 * Closes the database client a request opened (collections), after its answer, errors included: a Worker's sockets
 * belong to their request, and leaving them to the runtime would log a stray "socket closed" per request.
 *
 * @example app.use("/v1/*", closeDatabase())
 */
export function closeDatabase(): MiddlewareHandler {
  return async function closeDatabaseMiddleware(c, next) {
    try {
      await next();
    } finally {
      closeStores(c);
    }
  };
}
