import { createRoute, type z } from "@hono/zod-openapi";
import {
  COLLECTION_LIMITS,
  type CollectionUsage,
  UpsertItem,
  UpsertItemsRequest,
  UpsertItemsResponse,
} from "../../src/api/collections.ts";
import { EXAMPLE_IMAGE_BASE64 } from "../../src/api/index.ts";
import type { App } from "../context.ts";
import { ApiError } from "../errors.ts";
import { billUsage, reserveUnits, storageLimits } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { readJsonBody, validate } from "../request/read-body.ts";
import { Refusal } from "../services/collections/collection-store.ts";
import { embedSources, type VectorSource } from "../services/collections/item-vectors.ts";
import { collectionOf, storesOf } from "../services/collections/request-stores.ts";
import { NameParams } from "./v1_collections_put.ts";

export const upsertItemsRoute = createRoute({
  method: "post",
  path: "/v1/collections/{name}/items",
  operationId: "upsertItems",
  tags: ["Collections"],
  summary: "Add or replace items",
  description: `Upserts 1–${COLLECTION_LIMITS.maxItemsPerUpsert} items (at most ${COLLECTION_LIMITS.maxImagesPerUpsert} images), each with its id, exactly one of an
image, a text or a unit vector of the collection's dimension, and flat metadata. An item with an id already in the
collection is replaced; an id given twice in one request fails from its second time on. A bad item fails alone
(\`results[i].error\`, not written, not billed); the request fails as a whole only for its own shape, images together
over the request's byte limit (413 \`image_too_large\`), a GPU tier that cannot answer (retryable) or the plan's item
limit (nothing written).`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    params: NameParams,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: UpsertItemsRequest,
          example: {
            items: [
              {
                id: "red-circle.png",
                image: { base64: EXAMPLE_IMAGE_BASE64 },
                metadata: { colour: "red", count: 1 },
              },
              { id: "note-1", text: "three blue stars", metadata: { kind: "note" } },
            ],
          },
        },
      },
    },
  },
  responses: {
    200: jsonResponse(
      UpsertItemsResponse,
      "One result per item, in request order.",
      {
        results: [
          { id: "red-circle.png", status: "upserted" },
          { id: "note-1", status: "upserted" },
        ],
        usage: { images: 1, texts_computed: 1, texts_cached: 0, item_writes: 2, queries: 0 },
      },
      v1Headers({ post: true }),
    ),
  },
});

/** `POST /v1/collections/{name}/items` (see `description`). */
export function registerV1CollectionItemsUpsert(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.database, E.billed, E.idempotent, E.body, E.gpu, [
    "collection_not_found",
    "model_mismatch",
    "storage_limit_reached",
    // An image's own problem is its item's error; the images together over the request's byte limit (reachable only
    // through URLs, as base64 within the body cap cannot reach it) fail the request.
    "image_too_large",
  ]);
  addRoute(app, upsertItemsRoute, errors, async (c) => {
    const { name } = validate(NameParams, c.req.param());
    const request = await readJsonBody(c, UpsertItemsRequest);
    const collection = await collectionOf(c, name);
    const results: (z.infer<typeof UpsertItemsResponse>["results"][number] | undefined)[] = [];
    const valid: { slot: number; item: UpsertItem; source: VectorSource }[] = [];
    // An id given twice is refused from its second time on, before any work: one request writes an id once.
    const firstSlot = new Map<string, number>();
    for (const [slot, raw] of request.items.entries()) {
      const parsed = UpsertItem.safeParse(raw);
      if (!parsed.success) {
        const id = (raw as { id?: unknown })?.id;
        const issue = parsed.error.issues[0];
        results[slot] = {
          id: typeof id === "string" ? id : null,
          error: { code: "invalid_item", message: `${issue?.path.join(".") || "item"}: ${issue?.message}` },
        };
        continue;
      }
      const item = parsed.data;
      const earlier = firstSlot.get(item.id);
      if (earlier !== undefined) {
        results[slot] = {
          id: item.id,
          error: { code: "invalid_item", message: `id: given already at /items/${earlier}` },
        };
        continue;
      }
      firstSlot.set(item.id, slot);
      const source: VectorSource = item.image
        ? { kind: "image", image: item.image, pointer: `/items/${slot}/image` }
        : item.text !== undefined
          ? { kind: "text", text: item.text }
          : { kind: "vector", vector: item.embedding as number[] };
      valid.push({ slot, item, source });
    }
    const imageCount = valid.filter((v) => v.source.kind === "image").length;
    if (imageCount > COLLECTION_LIMITS.maxImagesPerUpsert)
      throw new ApiError(
        "invalid_request",
        `at most ${COLLECTION_LIMITS.maxImagesPerUpsert} images per request`,
        {
          errors: [{ pointer: "/items", detail: `${imageCount} images` }],
        },
      );
    // The most this request can use is the meter's before any work: a request refused for quota leaves nothing
    // behind, not even GPU work or cache entries. It is billed what it used, which may be less.
    await reserveUnits(c, {
      item_writes: valid.length,
      images: imageCount,
      texts: valid.filter((v) => v.source.kind === "text").length,
    });
    const embedded = await embedSources(
      c,
      valid.map((v) => v.source),
    );
    const toWrite = valid.flatMap((v, k) => {
      const vector = embedded.vectors[k];
      if (vector instanceof Float32Array)
        return [{ slot: v.slot, id: v.item.id, vector, metadata: v.item.metadata ?? {} }];
      results[v.slot] = { id: v.item.id, error: vector as { code: "invalid_item"; message: string } };
      return [];
    });
    try {
      await storesOf(c).items(collection).upsert(toWrite, storageLimits(c).items);
    } catch (error) {
      if (error instanceof Refusal && error.reason === "item_limit")
        throw new ApiError(
          "storage_limit_reached",
          `this account holds at most ${error.limit} items on the ${c.get("apiKey").plan} plan; nothing was written`,
        );
      if (error instanceof Refusal)
        throw new ApiError("collection_not_found", `collection "${name}" was deleted`);
      throw error;
    }
    for (const w of toWrite) results[w.slot] = { id: w.id, status: "upserted" };
    const usage: CollectionUsage = {
      images: embedded.images,
      texts_computed: embedded.texts.computed,
      texts_cached: embedded.texts.cached,
      item_writes: toWrite.length,
      queries: 0,
    };
    billUsage(c, usage);
    return c.json({ results: results as z.infer<typeof UpsertItemsResponse>["results"], usage }, 200);
  });
}
