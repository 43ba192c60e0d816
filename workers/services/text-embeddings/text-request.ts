import type { Context } from "hono";
import { waitUntilOf } from "../../context.ts";
import type { RequestScope } from "../../middleware/request-scope/index.ts";
import type { CallBudget } from "../upstream.ts";
import { CacheWrites, KV_WRITES_PER_REQUEST } from "./cache-writes.ts";
import type { TextRequest } from "./text-embedding-service.ts";

/**
 * What the text cache needs from a request: its budget (or a child of it), its `waitUntil`, and its one share of KV
 * writes, made once the request has answered.
 */
export function textRequest(c: Context, budget: CallBudget = c.get("scope")): TextRequest {
  const scope = c.get("scope");
  let cacheWrites = writesOf.get(scope);
  if (!cacheWrites) {
    const writes = new CacheWrites(KV_WRITES_PER_REQUEST, waitUntilOf(c));
    scope.afterAnswer(() => writes.start());
    writesOf.set(scope, writes);
    cacheWrites = writes;
  }
  return { budget, waitUntil: waitUntilOf(c), cacheWrites };
}

const writesOf = new WeakMap<RequestScope, CacheWrites>();
