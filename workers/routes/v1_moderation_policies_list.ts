import { createRoute, z } from "@hono/zod-openapi";
import { PolicyList } from "../../src/api/moderation.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { NO_USAGE } from "../middleware/metering/usage.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { validate } from "../request/read-body.ts";

const ListQuery = z.strictObject({
  cursor: z.string().max(64).optional().meta({ description: "`next_cursor` of the previous page." }),
  limit: z.coerce.number().int().min(1).max(100).optional().meta({ description: "Page size; default 50." }),
});

export const listPoliciesRoute = createRoute({
  method: "get",
  path: "/v1/moderation/policies",
  operationId: "listModerationPolicies",
  tags: ["Moderation"],
  summary: "List moderation policies",
  description:
    "The calling key's account's policies by id, a page at a time (`next_cursor`); `default` is built in.",
  security: [{ ApiKey: [] }],
  request: { query: ListQuery },
  responses: {
    200: jsonResponse(
      PolicyList,
      "A page of policies.",
      {
        object: "list",
        data: [
          {
            object: "moderation_policy",
            id: "mp_6f1c0e9a2b4d8c7e5f3a1b2c",
            name: "shop uploads",
            created: "2026-12-01T09:00:00.000Z",
          },
        ],
        next_cursor: null,
        usage: NO_USAGE,
      },
      v1Headers(),
    ),
  },
});

/** `GET /v1/moderation/policies` (see `description`). */
export function registerV1ModerationPoliciesList(app: App): void {
  addRoute(app, listPoliciesRoute, errorsOf(E.any, E.apiKey, E.query), async (c) => {
    const query = validate(ListQuery, c.req.query());
    // The cursor is the last id of the previous page, as it is: ids are public and ordered.
    if (query.cursor !== undefined && !/^mp_[0-9a-f]{24}$/.test(query.cursor))
      throw new ApiError("invalid_request", "cursor is not one this API returned", {
        errors: [{ pointer: "/cursor", detail: "unknown cursor" }],
      });
    const limit = query.limit ?? 50;
    const rows = await c.get("services").moderation.store.list(c.get("apiKey").account, query.cursor, limit);
    const last = rows.at(-1);
    return c.json(
      {
        object: "list" as const,
        data: rows.map((r) => ({
          object: "moderation_policy" as const,
          id: r.id,
          name: r.name,
          created: new Date(r.created).toISOString(),
        })),
        next_cursor: last && rows.length === limit ? last.id : null,
        usage: NO_USAGE,
      },
      200,
    );
  });
}
