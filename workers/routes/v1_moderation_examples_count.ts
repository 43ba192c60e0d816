import { createRoute } from "@hono/zod-openapi";
import { ExampleCounts } from "../../src/api/moderation.ts";
import type { App } from "../context.ts";
import { NO_USAGE } from "../middleware/metering/usage.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { EXAMPLES_PATH, ownPolicy } from "./v1_moderation_examples_add.ts";
import { PolicyParams } from "./v1_moderation_policies_get.ts";

export const exampleCountsRoute = createRoute({
  method: "get",
  path: EXAMPLES_PATH,
  operationId: "countModerationExamples",
  tags: ["Moderation"],
  summary: "Count labelled examples",
  description:
    "How many examples the policy holds in all (`total`), and of those embedded by the served model, how many are clean and in each category.",
  security: [{ ApiKey: [] }],
  request: { params: PolicyParams },
  responses: {
    200: jsonResponse(
      ExampleCounts,
      "The counts.",
      { object: "example_counts", total: 2, clean: 1, categories: { weapons: 1 }, usage: NO_USAGE },
      v1Headers(),
    ),
  },
});

/** `GET /v1/moderation/policies/{id}/examples` (see `description`). */
export function registerV1ModerationExamplesCount(app: App): void {
  addRoute(app, exampleCountsRoute, errorsOf(E.any, E.apiKey, E.query, ["policy_not_found"]), async (c) => {
    const policy = await ownPolicy(c);
    // The served model's examples are the ones calibration uses; others are counted in `total` only.
    const model = c.get("services").model.id;
    const rows = await c.get("services").moderation.store.exampleCategories(policy.account, policy.id);
    const mine = rows.filter((r) => r.model === model);
    const categories = Object.fromEntries(policy.categories.map((cat) => [cat.name, 0]));
    for (const e of mine) for (const name of e.categories) categories[name] = (categories[name] ?? 0) + 1;
    const clean = mine.filter((e) => e.categories.length === 0).length;
    return c.json(
      { object: "example_counts" as const, total: rows.length, clean, categories, usage: NO_USAGE },
      200,
    );
  });
}
