import * as z from "zod";
import {
  ACCOUNT_PATTERN,
  type CreatedApiKey,
  DEFAULT_ACCOUNT,
  DEFAULT_PLAN,
} from "../../src/billing/index.ts";
import { planNamed } from "../billing/index.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { bodyKind, parseJson, readBodyBytes, validate } from "../request/read-body.ts";

export const CreateKeyRequest = z.strictObject({
  name: z.string().trim().min(1).max(100),
  plan: z.string().min(1).max(32).optional(),
  account: z.string().regex(ACCOUNT_PATTERN, "letters, digits and ._:@- (at most 128)").optional(),
});

/**
 * `POST /admin/keys` — creates a key on a plan (default `free`) for an account (default `default`). The answer is
 * the only place the key ever appears: D1 keeps its SHA-256.
 */
export function registerAdminKeysCreate(app: App): void {
  app.post("/admin/keys", async (c) => {
    bodyKind(c, false);
    const request = validate(CreateKeyRequest, parseJson(await readBodyBytes(c, 16 * 1024)));
    const billing = c.get("services").billing;
    const plan = request.plan ?? DEFAULT_PLAN;
    if (!planNamed(billing.config, plan)) {
      const known = Object.keys(billing.config.plans).join(", ");
      throw new ApiError("invalid_request", `no plan "${plan}"; plans: ${known}`, {
        errors: [{ pointer: "/plan", detail: `one of ${known}` }],
      });
    }
    const created: CreatedApiKey = await billing.keys.create(
      { name: request.name, account: request.account ?? DEFAULT_ACCOUNT, plan },
      Date.now(),
    );
    return c.json(created, 201, { "cache-control": "no-store" });
  });
}
