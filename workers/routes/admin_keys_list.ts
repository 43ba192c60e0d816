import * as z from "zod";
import { ACCOUNT_PATTERN } from "../../src/billing/index.ts";
import type { App } from "../context.ts";
import { validate } from "../request/read-body.ts";

const ListKeysQuery = z.strictObject({
  account: z.string().regex(ACCOUNT_PATTERN).optional(),
  limit: z.coerce.number().int().min(1).max(1000).optional(),
});

/** `GET /admin/keys?account=&limit=` — keys, newest first (never the keys themselves, nor their hashes). */
export function registerAdminKeysList(app: App): void {
  app.get("/admin/keys", async (c) => {
    const query = validate(ListKeysQuery, c.req.query());
    const data = await c
      .get("services")
      .billing.keys.list({ account: query.account, limit: query.limit ?? 100 });
    return c.json({ object: "list", data });
  });
}
