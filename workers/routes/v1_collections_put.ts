import { createRoute, z } from "@hono/zod-openapi";
import {
  CollectionName,
  CollectionResponse,
  CreateCollectionRequest,
  NO_COLLECTION_UNITS,
} from "../../src/api/collections.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { storageLimits } from "../middleware/metering/usage.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { bodyKind, parseJson, readBodyBytes, validate } from "../request/read-body.ts";
import { collectionOf, modelCanStore, storesOf } from "../services/collections/request-stores.ts";
import { COLLECTION_EXAMPLE, collectionView } from "../services/collections/views.ts";

export const NameParams = z.object({
  name: CollectionName.meta({ param: { name: "name", in: "path" } }),
});

const EXAMPLE = { ...COLLECTION_EXAMPLE, usage: NO_COLLECTION_UNITS };

export const putCollectionRoute = createRoute({
  method: "put",
  path: "/v1/collections/{name}",
  operationId: "putCollection",
  tags: ["Collections"],
  summary: "Create a collection",
  description: `Creates a collection of the calling key's account (201), or returns the existing one (200):
idempotent. A collection is bound to the model that created it (id and dimension); with another model it is a 409
\`model_mismatch\`. The plan's \`storage_limits.collections\` bounds how many an account has.`,
  security: [{ ApiKey: [] }],
  request: {
    params: NameParams,
    body: {
      required: false,
      content: {
        "application/json": { schema: CreateCollectionRequest, example: { description: "My camera roll" } },
      },
    },
  },
  responses: {
    200: jsonResponse(CollectionResponse, "It existed already.", EXAMPLE, v1Headers()),
    201: jsonResponse(CollectionResponse, "Created.", EXAMPLE, v1Headers()),
  },
});

/** `PUT /v1/collections/{name}` (see `description`). */
export function registerV1CollectionsPut(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.database, E.body, ["model_mismatch", "storage_limit_reached"]);
  addRoute(app, putCollectionRoute, errors, async (c) => {
    const name = validate(NameParams, c.req.param()).name;
    const bytes = await readBodyBytes(c, 16 * 1024);
    let description: string | null = null;
    if (bytes.length > 0) {
      bodyKind(c, false);
      description = validate(CreateCollectionRequest, parseJson(bytes)).description ?? null;
    }
    const model = c.get("services").model;
    if (!modelCanStore(model.embeddingDim))
      throw new ApiError(
        "internal_error",
        `this deployment's model (${model.embeddingDim}-d) has no collections table`,
      );
    const key = c.get("apiKey");
    const outcome = await storesOf(c).collections.create(
      key.account,
      name,
      { description, model: model.id, dim: model.embeddingDim },
      storageLimits(c).collections,
    );
    if (outcome.kind === "limit")
      throw new ApiError(
        "storage_limit_reached",
        `this account holds at most ${outcome.limit} collections on the ${key.plan} plan; delete one or upgrade`,
      );
    if (outcome.kind === "exists") await collectionOf(c, name); // 409 when another model made it
    // No units, and no usage record: a record settled after the write could only turn a done create into an error.
    const body = { ...collectionView(outcome.collection), usage: NO_COLLECTION_UNITS };
    return outcome.kind === "exists" ? c.json(body, 200) : c.json(body, 201);
  });
}
