import { createRoute } from "@hono/zod-openapi";
import { ApiKeyRecord } from "../../src/billing/index.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse } from "../openapi/route.ts";
import { KEY_EXAMPLE, KeyIdParams } from "./admin_keys_get.ts";

export const revokeKeyRoute = createRoute({
  method: "post",
  path: "/admin/keys/{id}/revoke",
  operationId: "revokeKey",
  tags: ["Admin"],
  summary: "Revoke an API key",
  description: `Revokes a key, idempotently: its next request is refused at once and nothing more is billed to it.
If a step fails the answer is 500, and repeating the call finishes the job.`,
  security: [{ AdminToken: [] }],
  request: { params: KeyIdParams },
  responses: {
    200: jsonResponse(ApiKeyRecord, "The revoked key's record.", {
      ...KEY_EXAMPLE,
      status: "revoked",
      revoked_at: "2026-12-01T10:00:00.000Z",
    }),
  },
});

/**
 * `POST /admin/keys/:id/revoke` — revokes a key, idempotently. D1 first (the record of truth, which every cache
 * re-reads within 30 s), then the key's Durable Object (which refuses its next request, and bills nothing more,
 * at once), then this isolate's and KV's cached copy. If a step fails the answer is 500 and repeating the call
 * finishes the job.
 */
export function registerAdminKeysRevoke(app: App): void {
  addRoute(app, revokeKeyRoute, errorsOf(E.any, E.admin, ["key_not_found"]), async (c) => {
    const billing = c.get("services").billing;
    const now = Date.now();
    const revoked = await billing.keys.revoke(c.req.param("id"), now);
    if (!revoked) throw new ApiError("key_not_found", `no key ${c.req.param("id")}`);
    const { record, keyHash } = revoked;
    await billing.meter(record.id).revoke();
    await billing.directory.remember(
      keyHash,
      { id: record.id, name: record.name, account: record.account, plan: record.plan, status: "revoked" },
      now,
    );
    return c.json(record, 200);
  });
}
