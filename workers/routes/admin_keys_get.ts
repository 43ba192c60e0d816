import { createRoute, z } from "@hono/zod-openapi";
import { ApiKeyRecord } from "../../src/billing/index.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse } from "../openapi/route.ts";

/** A key record as the admin routes' examples show it. */
export const KEY_EXAMPLE: ApiKeyRecord = {
  id: "key_0123456789abcdef",
  name: "iOS app",
  account: "acme",
  plan: "pro",
  status: "active",
  hint: "clip_live_…Xy12",
  created_at: "2026-12-01T09:00:00.000Z",
  revoked_at: null,
  last_used_at: null,
};

/** The `{id}` of the key routes. */
export const KeyIdParams = z.object({
  id: z.string().meta({
    param: { name: "id", in: "path" },
    description: "The key's id (`key_…`).",
    example: "key_0123456789abcdef",
  }),
});

export const getKeyRoute = createRoute({
  method: "get",
  path: "/admin/keys/{id}",
  operationId: "getKey",
  tags: ["Admin"],
  summary: "One API key",
  description: "One key's record: never the key itself, nor its hash.",
  security: [{ AdminToken: [] }],
  request: { params: KeyIdParams },
  responses: { 200: jsonResponse(ApiKeyRecord, "The key's record.", KEY_EXAMPLE) },
});

/** `GET /admin/keys/{id}` (see `description`). */
export function registerAdminKeysGet(app: App): void {
  addRoute(app, getKeyRoute, errorsOf(E.any, E.admin, ["key_not_found"]), async (c) => {
    const record = await c.get("services").billing.keys.get(c.req.param("id"));
    if (!record) throw new ApiError("key_not_found", `no key ${c.req.param("id")}`);
    return c.json(record, 200);
  });
}
