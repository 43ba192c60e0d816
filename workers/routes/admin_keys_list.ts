import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { ACCOUNT_PATTERN, ApiKeyRecord } from "../../src/billing/index.ts";
import type { App } from "../context.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";
import { KEY_EXAMPLE } from "./admin_keys_get.ts";

const ListKeysQuery = z.strictObject({
  account: z.string().regex(ACCOUNT_PATTERN).optional().meta({ description: "Only this account's keys." }),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .meta({ description: "At most this many; default 100." }),
});

const KeyList = z.object({ object: z.literal("list"), data: z.array(ApiKeyRecord) }).meta({ id: "KeyList" });

export const listKeysRoute = createRoute({
  method: "get",
  path: "/admin/keys",
  operationId: "listKeys",
  tags: ["Admin"],
  summary: "List API keys",
  description: "Keys, newest first: never the keys themselves, nor their hashes.",
  security: [{ AdminToken: [] }],
  request: { query: ListKeysQuery },
  responses: { 200: jsonResponse(KeyList, "The keys.", { object: "list", data: [KEY_EXAMPLE] }) },
});

/** `GET /admin/keys` (see `description`). */
export function registerAdminKeysList(app: App): void {
  addRoute(app, listKeysRoute, errorsOf(E.any, E.admin, E.query), async (c) => {
    const query = validate(ListKeysQuery, c.req.query());
    const data = await c
      .get("services")
      .billing.keys.list({ account: query.account, limit: query.limit ?? 100 });
    return c.json({ object: "list" as const, data }, 200);
  });
}
