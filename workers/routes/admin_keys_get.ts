import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";

/** `GET /admin/keys/:id` — one key's record. */
export function registerAdminKeysGet(app: App): void {
  app.get("/admin/keys/:id", async (c) => {
    const record = await c.get("services").billing.keys.get(c.req.param("id"));
    if (!record) throw new ApiError("not_found", `no key ${c.req.param("id")}`);
    return c.json(record);
  });
}
