import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";

/**
 * `POST /admin/keys/:id/revoke` — revokes a key, idempotently. D1 first (the record of truth, which every cache
 * re-reads within 30 s), then the key's Durable Object (which refuses its next request, and bills nothing more,
 * at once), then this isolate's and KV's cached copy. If a step fails the answer is 500 and repeating the call
 * finishes the job.
 */
export function registerAdminKeysRevoke(app: App): void {
  app.post("/admin/keys/:id/revoke", async (c) => {
    const billing = c.get("services").billing;
    const now = Date.now();
    const revoked = await billing.keys.revoke(c.req.param("id"), now);
    if (!revoked) throw new ApiError("not_found", `no key ${c.req.param("id")}`);
    const { record, keyHash } = revoked;
    await billing.meter(record.id).revoke();
    await billing.directory.remember(
      keyHash,
      { id: record.id, name: record.name, account: record.account, plan: record.plan, status: "revoked" },
      now,
    );
    return c.json(record);
  });
}
