import * as z from "zod";
import { ImageInput } from "./requests.ts";
import { ITEM_ERROR_CODES, Usage } from "./responses.ts";

/**
 * Collections: an account's own images (and texts, or vectors), embedded by the served model and searched by
 * cosine similarity with metadata filters. Request and response shapes (zod), as for the other routes.
 */

export const COLLECTION_LIMITS = {
  /** Items per upsert request, of which images at most `maxImagesPerUpsert`. */
  maxItemsPerUpsert: 64,
  maxImagesPerUpsert: 16,
  maxItemIdChars: 128,
  /** A metadata object, as UTF-8 JSON. */
  maxMetadataBytes: 2048,
  maxMetadataKeys: 64,
  maxTopK: 100,
  defaultTopK: 10,
  /** Values in one `$in` / `$nin` list, and keys in one filter. */
  maxFilterValues: 100,
  maxFilterKeys: 16,
  /** Ids per bulk delete, items per list page. */
  maxDeleteIds: 1000,
  maxPageSize: 1000,
  defaultPageSize: 100,
  /** A given embedding's length may differ from 1 by at most this (it is stored normalised). */
  unitTolerance: 1e-3,
} as const;
const L = COLLECTION_LIMITS;

export const COLLECTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Metadata keys: a letter or _ first (never `$`, which filters use for operators). */
export const METADATA_KEY = /^(?!__proto__$)[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Text Postgres can store: no lone UTF-16 surrogates and no NUL (jsonb and text refuse both, and a statement with one
 * fails whole — an upsert's every item with it).
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const storable = (text: string) => !text.includes("\u0000") && !LONE_SURROGATE.test(text);
const STORABLE_MESSAGE = "well-formed Unicode without NUL characters";

export const CollectionName = z
  .string()
  .regex(COLLECTION_NAME, "1–64 characters of A–Z, a–z, 0–9, _ and -")
  .meta({ description: "1–64 characters of `[A-Za-z0-9_-]`.", example: "camera-roll" });

export const ItemId = z
  .string()
  .min(1)
  .refine((id) => [...id].length <= L.maxItemIdChars, `at most ${L.maxItemIdChars} characters`)
  .refine(storable, `an id is ${STORABLE_MESSAGE}`)
  .refine(
    (id) => ![...id].some((ch) => (ch.codePointAt(0) ?? 0) < 0x20 || ch === "\u007f"),
    "an id has no control characters",
  )
  .meta({
    description: `1–${L.maxItemIdChars} characters, no control characters; yours.`,
    example: "IMG_0042.jpg",
  });

const scalar = z
  .union([z.string().max(1024).refine(storable, STORABLE_MESSAGE), z.number(), z.boolean()])
  .meta({ id: "MetadataValue", description: "A string (≤ 1,024 characters), a number or a boolean." });

export const Metadata = z
  .record(
    z.string().regex(METADATA_KEY, "a key is 1–64 of [A-Za-z0-9_.-], starting with a letter or _"),
    scalar,
  )
  .refine((m) => Object.keys(m).length <= L.maxMetadataKeys, `at most ${L.maxMetadataKeys} keys`)
  .refine(
    (m) => new TextEncoder().encode(JSON.stringify(m)).length <= L.maxMetadataBytes,
    `metadata is at most ${L.maxMetadataBytes} bytes as JSON`,
  )
  .meta({
    id: "Metadata",
    description: `A flat object of strings, numbers and booleans, at most ${L.maxMetadataBytes} bytes as JSON.`,
    example: { colour: "red", shape: "circle", count: 1 },
  });
export type Metadata = z.infer<typeof Metadata>;

const vector = z.array(z.number()).min(1).max(4096);

export const CreateCollectionRequest = z
  .strictObject({ description: z.string().max(1000).refine(storable, STORABLE_MESSAGE).optional() })
  .meta({ id: "CreateCollectionRequest" });

/** Units of a collections request: the usual ones plus item writes and queries. */
export const CollectionUsage = Usage.extend({
  item_writes: z.int().min(0).meta({ description: "Items upserted (billed per item)." }),
  queries: z.int().min(0).meta({ description: "Searches run (billed per query)." }),
}).meta({ id: "CollectionUsage" });
export type CollectionUsage = z.infer<typeof CollectionUsage>;

/**
 * The usage of a request that embeds, computes and searches nothing: managing collections and items costs no units,
 * and its answer still says so. Only the bulk delete (a POST) leaves a usage record, for its Idempotency-Key replay.
 */
export const NO_COLLECTION_UNITS: CollectionUsage = Object.freeze({
  images: 0,
  texts_computed: 0,
  texts_cached: 0,
  item_writes: 0,
  queries: 0,
});

export const Collection = z
  .object({
    object: z.literal("collection"),
    name: z.string(),
    description: z.string().nullable(),
    model: z
      .string()
      .meta({ description: "The model that embeds this collection; it only serves that model." }),
    dim: z.int().meta({ description: "The embedding dimension." }),
    count: z.int().min(0).meta({ description: "Items in the collection." }),
    created: z.iso.datetime(),
  })
  .meta({ id: "Collection" });
export type Collection = z.infer<typeof Collection>;

/** One collection, as `GET` and `PUT /v1/collections/{name}` answer it. */
export const CollectionResponse = Collection.extend({ usage: CollectionUsage }).meta({
  id: "CollectionResponse",
});

export const CollectionList = z
  .object({
    object: z.literal("list"),
    data: z.array(Collection),
    next_cursor: z.string().nullable(),
    usage: CollectionUsage,
  })
  .meta({ id: "CollectionList" });

export const UpsertItem = z
  .strictObject({
    id: ItemId,
    image: ImageInput.optional(),
    text: z.string().min(1).max(20_000).optional(),
    embedding: vector.optional().meta({ description: "A unit vector of the collection's dimension." }),
    metadata: Metadata.optional(),
  })
  .refine(
    (item) => [item.image, item.text, item.embedding].filter((v) => v !== undefined).length === 1,
    "give exactly one of image, text or embedding",
  )
  .meta({
    id: "UpsertItem",
    description: "One item: its id, **exactly one of** `image`, `text` or `embedding`, and metadata.",
  });
export type UpsertItem = z.infer<typeof UpsertItem>;

export const UpsertItemsRequest = z
  .strictObject({
    items: z
      .array(z.unknown())
      .min(1, "send at least one item")
      .max(L.maxItemsPerUpsert, `at most ${L.maxItemsPerUpsert} items per request`)
      .meta({
        description: `1–${L.maxItemsPerUpsert} items (at most ${L.maxImagesPerUpsert} images); each is checked alone.`,
      }),
  })
  .meta({ id: "UpsertItemsRequest" });

export const ItemUpserted = z
  .object({ id: z.string(), status: z.literal("upserted") })
  .meta({ id: "ItemUpserted" });
/** Why one item of an upsert failed alone: its shape, its vector, or its image (the image codes of ItemError). */
export const UPSERT_ERROR_CODES = [
  "invalid_item",
  "dimension_mismatch",
  "not_unit_length",
  "invalid_base64",
  "not_an_image",
  ...ITEM_ERROR_CODES,
] as const;

export const UpsertItemError = z.object({ code: z.enum(UPSERT_ERROR_CODES), message: z.string() }).meta({
  id: "UpsertItemError",
  description:
    "`invalid_item`: the item does not match UpsertItem; `dimension_mismatch`: its embedding is not of the collection's dimension; `not_unit_length`: its embedding is not a unit vector; the rest as for images elsewhere.",
});

export const ItemFailed = z
  .object({
    id: z.string().nullable().meta({ description: "The item's id, or null when it had none to read." }),
    error: UpsertItemError,
  })
  .meta({ id: "ItemFailed", description: "An item that failed alone (not written, not billed)." });

export const UpsertItemsResponse = z
  .object({ results: z.array(z.union([ItemUpserted, ItemFailed])), usage: CollectionUsage })
  .meta({ id: "UpsertItemsResponse" });

export const FILTER_OPERATORS = ["$eq", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte"] as const;
export type FilterOperator = (typeof FILTER_OPERATORS)[number];
export type FilterValue = string | number | boolean;
/** One condition on one metadata key; several are ANDed. */
export interface FilterCondition {
  key: string;
  op: FilterOperator;
  value: FilterValue | FilterValue[];
}

/**
 * A metadata filter, parsed: `{"colour": "red"}` is `$eq`; `{"count": {"$gte": 2, "$lt": 5}}` two conditions. Range
 * operators take numbers, `$in`/`$nin` a list of 1–100 values. Throws a message naming the offending key.
 */
export function parseFilter(filter: Record<string, unknown>): FilterCondition[] {
  const keys = Object.keys(filter);
  if (keys.length > L.maxFilterKeys) throw new Error(`a filter has at most ${L.maxFilterKeys} keys`);
  const isScalar = (v: unknown): v is FilterValue =>
    (typeof v === "string" && storable(v)) ||
    typeof v === "boolean" ||
    (typeof v === "number" && Number.isFinite(v));
  const conditions: FilterCondition[] = [];
  for (const key of keys) {
    if (!METADATA_KEY.test(key)) throw new Error(`"${key}" is not a metadata key`);
    const spec = filter[key];
    if (isScalar(spec)) {
      conditions.push({ key, op: "$eq", value: spec });
      continue;
    }
    if (!spec || typeof spec !== "object" || Array.isArray(spec) || Object.keys(spec).length === 0)
      throw new Error(`${key}: give a value or an object of operators (${FILTER_OPERATORS.join(" ")})`);
    for (const [op, value] of Object.entries(spec)) {
      if (!(FILTER_OPERATORS as readonly string[]).includes(op))
        throw new Error(`${key}: unknown operator "${op}" (${FILTER_OPERATORS.join(" ")})`);
      const operator = op as FilterOperator;
      if (operator === "$in" || operator === "$nin") {
        if (
          !Array.isArray(value) ||
          value.length === 0 ||
          value.length > L.maxFilterValues ||
          !value.every(isScalar)
        )
          throw new Error(`${key}.${op}: a list of 1–${L.maxFilterValues} strings, numbers or booleans`);
        conditions.push({ key, op: operator, value });
      } else if (operator === "$eq" || operator === "$ne") {
        if (!isScalar(value)) throw new Error(`${key}.${op}: a string, number or boolean`);
        conditions.push({ key, op: operator, value });
      } else {
        if (typeof value !== "number" || !Number.isFinite(value)) throw new Error(`${key}.${op}: a number`);
        conditions.push({ key, op: operator, value });
      }
    }
  }
  return conditions;
}

export const Filter = z
  .record(z.string().regex(METADATA_KEY, "a filter's keys are metadata keys"), z.unknown())
  .superRefine((filter, ctx) => {
    try {
      parseFilter(filter);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  })
  .meta({
    id: "Filter",
    description:
      'Conditions on metadata, ANDed, applied before top-k: `{"colour": "red"}` (equality) or `{"count": {"$gte": 2}}` with `$eq $ne $in $nin $lt $lte $gt $gte` (range operators on numbers; `$ne` and `$nin` also match items without the key).',
    example: { shape: "circle", count: { $gte: 2 } },
  });

export const QueryRequest = z
  .strictObject({
    text: z.string().min(1).max(20_000).optional().meta({ description: "Search by a text." }),
    image: ImageInput.optional().meta({ description: "Search by an image." }),
    id: ItemId.optional().meta({
      description: "More like this stored item (it comes first unless `exclude_self`).",
    }),
    embedding: vector
      .optional()
      .meta({ description: "Search by a unit vector of the collection's dimension." }),
    top_k: z
      .int()
      .min(1)
      .max(L.maxTopK)
      .optional()
      .meta({ description: `Default ${L.defaultTopK}.` }),
    filter: Filter.optional(),
    include_metadata: z.boolean().optional().meta({ description: "Default true." }),
    min_score: z
      .number()
      .min(-1)
      .max(1)
      .optional()
      .meta({ description: "Only matches at least this similar." }),
    exclude_self: z.boolean().optional().meta({ description: "With `id`: leave the item itself out." }),
  })
  .refine(
    (q) => [q.text, q.image, q.id, q.embedding].filter((v) => v !== undefined).length === 1,
    "give exactly one of text, image, id or embedding",
  )
  .refine((q) => q.exclude_self === undefined || q.id !== undefined, "exclude_self goes with id")
  .meta({
    id: "QueryRequest",
    description: "**Exactly one of** `text`, `image`, `id` or `embedding`, and options.",
  });
export type QueryRequest = z.infer<typeof QueryRequest>;

export const Match = z
  .object({
    id: z.string(),
    score: z.number().meta({ description: "Cosine similarity to the query." }),
    metadata: Metadata.optional(),
  })
  .meta({ id: "Match" });

export const QueryResponse = z
  .object({ matches: z.array(Match).meta({ description: "Best first." }), usage: CollectionUsage })
  .meta({ id: "QueryResponse" });

const timestamps = { created: z.iso.datetime(), updated: z.iso.datetime() };

export const ItemSummary = z
  .object({ id: z.string(), metadata: Metadata, ...timestamps })
  .meta({ id: "ItemSummary" });
export const ItemList = z
  .object({
    object: z.literal("list"),
    data: z.array(ItemSummary),
    next_cursor: z.string().nullable(),
    usage: CollectionUsage,
  })
  .meta({ id: "ItemList" });
export const StoredItem = z
  .object({
    object: z.literal("item"),
    id: z.string(),
    metadata: Metadata,
    ...timestamps,
    embedding: z.array(z.number()).optional().meta({ description: "With `?include=embedding`." }),
    usage: CollectionUsage,
  })
  .meta({ id: "StoredItem" });

export const DeleteItemsRequest = z
  .strictObject({ ids: z.array(ItemId).min(1).max(L.maxDeleteIds) })
  .meta({ id: "DeleteItemsRequest" });
export const Deleted = z
  .object({
    deleted: z.int().min(0).meta({ description: "How many existed and are gone." }),
    usage: CollectionUsage,
  })
  .meta({ id: "Deleted" });
