import { createRoute } from "@hono/zod-openapi";
import {
  COLLECTION_LIMITS,
  type CollectionUsage,
  parseFilter,
  QueryRequest,
  QueryResponse,
} from "../../src/api/collections.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { billUsage, reserveUnits } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { readJsonBody, validate } from "../request/read-body.ts";
import { embedSources, refusedQuery, type VectorSource } from "../services/collections/item-vectors.ts";
import { collectionOf, storesOf } from "../services/collections/request-stores.ts";
import { NameParams } from "./v1_collections_put.ts";

export const queryRoute = createRoute({
  method: "post",
  path: "/v1/collections/{name}/query",
  operationId: "queryCollection",
  tags: ["Collections"],
  summary: "Search a collection",
  description: `The items nearest to a text, an image, a stored item (\`id\`: "more like this"; the item itself comes
first unless \`exclude_self\`) or a unit vector, by cosine similarity, best first. \`filter\` is applied before top-k:
a filtered query returns \`top_k\` matches whenever that many pass it. A query sees every upsert answered before it.`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    params: NameParams,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: QueryRequest,
          example: { text: "a photo of a red circle", top_k: 5, filter: { count: { $gte: 1 } } },
        },
      },
    },
  },
  responses: {
    200: jsonResponse(
      QueryResponse,
      "The matches, best first.",
      {
        matches: [{ id: "red-circle.png", score: 0.312, metadata: { colour: "red", count: 1 } }],
        usage: { images: 0, texts_computed: 1, texts_cached: 0, item_writes: 0, queries: 1 },
      },
      v1Headers({ post: true }),
    ),
  },
});

/** `POST /v1/collections/{name}/query` (see `description`). */
export function registerV1CollectionQuery(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.database, E.billed, E.idempotent, E.body, E.images, E.gpu, [
    "collection_not_found",
    "item_not_found",
    "model_mismatch",
    "image_decode_failed",
  ]);
  addRoute(app, queryRoute, errors, async (c) => {
    const { name } = validate(NameParams, c.req.param());
    const query = await readJsonBody(c, QueryRequest);
    const collection = await collectionOf(c, name);
    const items = storesOf(c).items(collection);
    let source: VectorSource;
    if (query.id !== undefined) {
      const stored = await items.vectorOf(query.id);
      if (!stored) throw new ApiError("item_not_found", `no item "${query.id}" in collection "${name}"`);
      source = { kind: "vector", vector: stored };
    } else if (query.image) source = { kind: "image", image: query.image, pointer: "/image" };
    else if (query.text !== undefined) source = { kind: "text", text: query.text };
    else source = { kind: "vector", vector: query.embedding as number[] };
    // Reserved before any work, as for upserts: a query refused for quota embeds nothing.
    await reserveUnits(c, {
      queries: 1,
      images: source.kind === "image" ? 1 : 0,
      texts: source.kind === "text" ? 1 : 0,
    });
    const embedded = await embedSources(c, [source]);
    const vector = embedded.vectors[0];
    if (!(vector instanceof Float32Array)) throw refusedQuery(vector, query.image ? "/image" : "/embedding");
    const matches = await items.search(vector, {
      k: query.top_k ?? COLLECTION_LIMITS.defaultTopK,
      conditions: parseFilter(query.filter ?? {}),
      minScore: query.min_score,
      excludeId: query.exclude_self ? query.id : undefined,
      firstId: query.exclude_self ? undefined : query.id,
    });
    const withMetadata = query.include_metadata ?? true;
    const usage: CollectionUsage = {
      images: embedded.images,
      texts_computed: embedded.texts.computed,
      texts_cached: embedded.texts.cached,
      item_writes: 0,
      queries: 1,
    };
    billUsage(c, usage);
    return c.json(
      {
        matches: matches.map((m) => ({
          id: m.id,
          score: m.score,
          ...(withMetadata ? { metadata: m.metadata } : {}),
        })),
        usage,
      },
      200,
    );
  });
}
