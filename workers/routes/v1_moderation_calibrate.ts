import { createRoute } from "@hono/zod-openapi";
import { CalibrateRequest, CalibrationResponse, MODERATION_LIMITS } from "../../src/api/moderation.ts";
import { calibratePolicy, DEFAULT_CALIBRATION_OPTIONS } from "../../src/calibration/index.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { billUsage, usageOf } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { parseJson, readBodyBytes, validate } from "../request/read-body.ts";
import {
  categorySimilarities,
  DEFAULT_POLICY_ID,
  loadPolicy,
  policyOf,
} from "../services/moderation/policies.ts";
import type { StoredCalibration, StoredCategoryCalibration } from "../services/moderation/policy-store.ts";
import { PolicyParams } from "./v1_moderation_policies_get.ts";

export const calibrateRoute = createRoute({
  method: "post",
  path: "/v1/moderation/policies/{id}/calibrate",
  operationId: "calibrateModerationPolicy",
  tags: ["Moderation"],
  summary: "Calibrate a policy on its examples",
  description: `Per category, from the policy's examples embedded by the served model: the lowest threshold whose
precision reaches \`target_precision\` (default ${MODERATION_LIMITS.defaultTargetPrecision}; when none does, the
best-F1 threshold, \`target_met: false\`) and a Platt mapping from similarity to probability, both fitted on all
examples and stored for the served model; and the precision, recall and F1 they buy, measured by stratified 5-fold
cross-validation (each fold's threshold and mapping fitted on the other folds only). A category with fewer than
${MODERATION_LIMITS.minExamplesPerClass} examples in it or out of it stays uncalibrated (\`reason\`). Billed as a
request (the concepts' texts too, when another model embedded them).`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    params: PolicyParams,
    body: {
      required: false,
      content: { "application/json": { schema: CalibrateRequest, example: { target_precision: 0.9 } } },
    },
  },
  responses: {
    200: jsonResponse(
      CalibrationResponse,
      "What calibration chose and measured, per category.",
      {
        object: "calibration",
        policy: "mp_6f1c0e9a2b4d8c7e5f3a1b2c",
        model: "clip-edge/tiny-clip",
        target_precision: 0.9,
        examples: 120,
        categories: {
          weapons: {
            threshold: 0.27,
            precision: 0.93,
            recall: 0.88,
            f1: 0.9,
            positives: 40,
            negatives: 80,
            target_met: true,
            rule: "target_precision",
          },
        },
        usage: { images: 0, texts_computed: 0, texts_cached: 0 },
      },
      v1Headers({ post: true }),
    ),
  },
});

/** `POST /v1/moderation/policies/{id}/calibrate` (see `description`). */
export function registerV1ModerationCalibrate(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.gpu, [
    "policy_not_found",
    "not_enough_examples",
  ]);
  addRoute(app, calibrateRoute, errors, async (c) => {
    const { id } = validate(PolicyParams, c.req.param());
    if (id === DEFAULT_POLICY_ID)
      throw new ApiError(
        "invalid_request",
        "the built-in default policy cannot be calibrated; create a policy of your own",
        {
          errors: [{ pointer: "/id", detail: "built in" }],
        },
      );
    const bytes = await readBodyBytes(c, 16 * 1024);
    const body = bytes.length > 0 ? validate(CalibrateRequest, parseJson(bytes)) : {};
    const targetPrecision = body.target_precision ?? MODERATION_LIMITS.defaultTargetPrecision;
    const row = await policyOf(c, id);
    const policy = await loadPolicy(c, row);
    const model = c.get("services").model.id;
    const { examples } = await c.get("services").moderation.store.examples(row.account, row.id, model);
    const names = row.categories.map((cat) => cat.name);
    const labelled = examples.map((e) => {
      const sims = categorySimilarities(policy, e.embedding);
      return {
        similarities: Object.fromEntries(names.map((n, i) => [n, sims[i] as number])),
        categories: e.categories,
      };
    });
    const measured = calibratePolicy(names, labelled, { ...DEFAULT_CALIBRATION_OPTIONS, targetPrecision });
    const categories: Record<string, StoredCategoryCalibration> = {};
    for (const name of names) {
      const m = measured[name];
      if (!m) continue;
      categories[name] =
        m.status === "calibrated"
          ? {
              threshold: m.threshold,
              platt: m.platt,
              precision: m.precision,
              recall: m.recall,
              f1: m.f1,
              positives: m.positives,
              negatives: m.negatives,
              // The target is met only by a threshold chosen for it, and only where cross-validation confirms it.
              target_met: m.target_met && m.threshold_rule === "target_precision",
              rule: m.threshold_rule,
            }
          : {
              threshold: null,
              platt: null,
              precision: null,
              recall: null,
              f1: null,
              positives: m.positives,
              negatives: m.negatives,
              target_met: false,
              rule: "uncalibrated",
              reason: m.reason,
            };
    }
    if (Object.values(categories).every((m) => m.rule === "uncalibrated"))
      throw new ApiError(
        "not_enough_examples",
        `no category has ${MODERATION_LIMITS.minExamplesPerClass} examples in it and ${MODERATION_LIMITS.minExamplesPerClass} out of it for ${model} (${examples.length} examples); add more`,
      );
    const calibration: StoredCalibration = {
      model,
      target_precision: targetPrecision,
      examples: examples.length,
      categories,
    };
    if (!(await c.get("services").moderation.store.saveCalibration(row.account, row.id, calibration)))
      throw new ApiError("policy_not_found", `moderation policy "${id}" was deleted meanwhile`);
    const shown = Object.fromEntries(
      Object.entries(categories).map(([name, { platt: _platt, ...rest }]) => [name, rest]),
    );
    const usage = billUsage(c, usageOf(0, policy.texts));
    return c.json(
      {
        object: "calibration" as const,
        policy: row.id,
        model,
        target_precision: targetPrecision,
        examples: examples.length,
        categories: shown,
        usage,
      },
      200,
    );
  });
}
