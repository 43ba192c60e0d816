import { createRoute } from "@hono/zod-openapi";
import * as z from "zod";
import { ACCOUNT_PATTERN, CreatedApiKey, DEFAULT_ACCOUNT, DEFAULT_PLAN } from "../../src/billing/index.ts";
import { planNamed } from "../billing/index.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse } from "../openapi/route.ts";
import { readJsonBody } from "../request/read-body.ts";
import { KEY_EXAMPLE } from "./admin_keys_get.ts";

export const CreateKeyRequest = z
  .strictObject({
    name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .meta({ description: "What the key is for, e.g. the app's name." }),
    plan: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .meta({ description: `One of BILLING_PLANS; default \`${DEFAULT_PLAN}\`.` }),
    account: z
      .string()
      .regex(ACCOUNT_PATTERN, "letters, digits and ._:@- (at most 128)")
      .optional()
      .meta({ description: `Whose usage the key bills; default \`${DEFAULT_ACCOUNT}\`.` }),
  })
  .meta({ id: "CreateKeyRequest" });

export const createKeyRoute = createRoute({
  method: "post",
  path: "/admin/keys",
  operationId: "createKey",
  tags: ["Admin"],
  summary: "Create an API key",
  description: `Creates a key on a plan for an account. The answer is the only place the key ever appears: the
database keeps its SHA-256.`,
  security: [{ AdminToken: [] }],
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: CreateKeyRequest,
          example: { name: "iOS app", account: "acme", plan: "pro" },
        },
      },
    },
  },
  responses: {
    201: jsonResponse(CreatedApiKey, "The key, shown this once.", {
      ...KEY_EXAMPLE,
      key: "clip_live_4Jm0Qw9xZ1cVb2Nn3Aa5Ss6Dd7Ff8Gg9Hh0Jj1Kk2Xy12",
    }),
  },
});

/** `POST /admin/keys` (see `description`). */
export function registerAdminKeysCreate(app: App): void {
  addRoute(app, createKeyRoute, errorsOf(E.any, E.admin, E.body), async (c) => {
    const request = await readJsonBody(c, CreateKeyRequest, 16 * 1024);
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
