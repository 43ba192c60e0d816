import { createRoute } from "@hono/zod-openapi";
import { DEFAULT_TEMPLATES } from "../../src/api/index.ts";
import { CreateLabelSetRequest, LABEL_SET_LIMITS, LabelSetResponse } from "../../src/api/label-sets.ts";
import type { App } from "../context.ts";
import { waitUntilOf } from "../context.ts";
import { ApiError } from "../errors.ts";
import {
  billUsage,
  reserveForLater,
  reserveUnits,
  storageLimits,
  usageOf,
} from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { readJsonBody } from "../request/read-body.ts";
import { BUILD_LEASE_MS, type LabelSetBuildMessage } from "../services/label-sets/build-queue.ts";
import { embedLabelSet, promptsOf } from "../services/label-sets/embed-label-set.ts";
import { type NewLabelSet, newLabelSetId } from "../services/label-sets/label-set-store.ts";
import { LABEL_SET_EXAMPLE, labelSetView } from "../services/label-sets/views.ts";
import { servedOrThrow } from "../services/upstream.ts";

const NO_TEXTS = { computed: 0, cached: 0 };

export const createLabelSetRoute = createRoute({
  method: "post",
  path: "/v1/label-sets",
  operationId: "createLabelSet",
  tags: ["Label sets"],
  summary: "Save a label set",
  description: `Embeds a label list once — each label through its templates, ensembled exactly as \`/v1/classify\`
does inline — and saves it, so \`/v1/classify\` with \`label_set\` costs no text work per request and answers the same
scores. Up to ${LABEL_SET_LIMITS.maxPromptsInRequest} prompts (labels × templates) are embedded within the request
(201, \`ready\`); a larger set is answered 202 \`building\` and embedded in the background: poll
\`GET /v1/label-sets/{id}\`. Billed as the texts it embeds (computed or from the cache), reserved before anything is
written; the plan's \`storage_limits\` bound the sets per account and the labels per set. A set belongs to the model
that made it.`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: CreateLabelSetRequest,
          example: { name: "shop categories", labels: ["sneakers", "boots", "sandals"] },
        },
      },
    },
  },
  responses: {
    201: jsonResponse(
      LabelSetResponse,
      "Embedded and saved: ready to classify with.",
      { ...LABEL_SET_EXAMPLE, usage: { images: 0, texts_computed: 21, texts_cached: 0 } },
      v1Headers({ post: true }),
    ),
    202: jsonResponse(
      LabelSetResponse,
      "Saved; being embedded in the background.",
      { ...LABEL_SET_EXAMPLE, status: "building", usage: { images: 0, texts_computed: 0, texts_cached: 0 } },
      v1Headers({ post: true }),
    ),
  },
});

/** `POST /v1/label-sets` (see `description`). */
export function registerV1LabelSetsCreate(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.gpu, [
    "storage_limit_reached",
    "label_set_not_found",
  ]);
  addRoute(app, createLabelSetRoute, errors, async (c) => {
    const request = await readJsonBody(c, CreateLabelSetRequest, 1024 * 1024);
    const services = c.get("services");
    const limits = storageLimits(c);
    const key = c.get("apiKey");
    if (request.labels.length > limits.labels_per_set)
      throw new ApiError(
        "storage_limit_reached",
        `a label set holds at most ${limits.labels_per_set} labels on the ${key.plan} plan; this one has ${request.labels.length}`,
      );
    const templates = request.templates ?? [...DEFAULT_TEMPLATES];
    const set: NewLabelSet = {
      id: newLabelSetId(),
      account: key.account,
      name: request.name,
      model: services.model.id,
      dim: services.model.embeddingDim,
      labels: request.labels,
      templates,
      status: "ready",
    };
    const { store, matrices } = services.labelSets;
    const prompts = promptsOf(set.labels, templates);
    const refusedForLimit = () =>
      new ApiError(
        "storage_limit_reached",
        `this account holds at most ${limits.label_sets} label sets on the ${key.plan} plan; delete one or upgrade`,
      );

    if (prompts > LABEL_SET_LIMITS.maxPromptsInRequest) {
      // Held for the consumer, which settles what it embedded; everything here is undone if the build cannot start.
      const held = await reserveForLater(c, { texts: prompts }, BUILD_LEASE_MS);
      let created = false;
      try {
        created = await store.create({ ...set, status: "building" }, limits.label_sets, []);
        if (!created) throw refusedForLimit();
        const message: LabelSetBuildMessage = {
          id: set.id,
          account: set.account,
          keyId: key.id,
          plan: key.plan,
          reservationId: held.id,
          requestId: c.get("requestId"),
        };
        await c.env.LABEL_SET_BUILD.send(message);
      } catch (error) {
        await held.release();
        if (created) await store.delete(set.account, set.id);
        throw error;
      }
      const row = await store.get(set.account, set.id);
      if (!row)
        throw new ApiError("label_set_not_found", "the label set was deleted while it was being created");
      return c.json({ ...labelSetView(row), usage: billUsage(c, usageOf(0, NO_TEXTS)) }, 202);
    }

    // A cheap early look at the limit spares GPU work for a request that would be refused; the INSERT decides.
    if ((await store.count(set.account)) >= limits.label_sets) throw refusedForLimit();
    await reserveUnits(c, { texts: prompts });
    const scope = c.get("scope");
    const embedded = servedOrThrow(
      await embedLabelSet(services.texts, set.labels, templates, {
        budget: scope,
        waitUntil: waitUntilOf(c),
      }),
    );
    // The matrix first: a row that says ready always has one. A refused insert leaves nothing behind.
    await matrices.put(set.id, set.model, embedded.rows);
    const created = await store
      .create(set, limits.label_sets, embedded.truncated)
      .catch(async (error: unknown) => {
        await matrices.delete(set.id, set.model);
        throw error;
      });
    if (!created) {
      await matrices.delete(set.id, set.model);
      throw refusedForLimit();
    }
    const row = await store.get(set.account, set.id);
    if (!row)
      throw new ApiError("label_set_not_found", "the label set was deleted while it was being created");
    return c.json({ ...labelSetView(row), usage: billUsage(c, usageOf(0, embedded)) }, 201);
  });
}
