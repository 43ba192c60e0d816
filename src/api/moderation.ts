import * as z from "zod";
import { CollectionName, ItemId } from "./collections.ts";
import { EmbeddingInputItem, ImageInput } from "./requests.ts";
import { Usage } from "./responses.ts";

/**
 * Content moderation with CLIP: a policy's categories each hold concept texts; an input's raw similarity to a
 * category is its highest cosine to the category's concepts, and it is flagged for the category when that reaches the
 * category's threshold — hand-set, or calibrated on the customer's own labelled examples, with the precision and
 * recall it buys measured by cross-validation. Request and response shapes (zod), as for the other routes.
 */

export const MODERATION_LIMITS = {
  maxCategories: 32,
  maxConceptsPerCategory: 32,
  maxConceptChars: 300,
  /** Inputs per /v1/moderations or examples request, of which images at most `maxImages`. */
  maxInputs: 64,
  maxImages: 16,
  /** Examples stored per policy (each holds its embedding). */
  maxExamples: 2000,
  /** Examples of each kind (in the category, not in it) a category needs before it can be calibrated. */
  minExamplesPerClass: 2,
  defaultTargetPrecision: 0.9,
  /** A category's threshold when none is given: a cosine, for the model's similarities. */
  defaultThreshold: 0.25,
} as const;
const L = MODERATION_LIMITS;

/** `mp_` and 24 hex digits, or `default` for the built-in policy. */
export const POLICY_ID = /^(mp_[0-9a-f]{24}|default)$/;
export const PolicyId = z
  .string()
  .regex(POLICY_ID, "a policy id looks like mp_ and 24 hex digits, or default")
  .meta({
    description: "A moderation policy's id (`mp_…`), or `default` for the built-in one.",
    example: "default",
  });

export const CATEGORY_NAME = /^[a-z][a-z0-9_-]{0,47}$/;
const categoryName = z
  .string()
  .regex(CATEGORY_NAME, "a category name is 1–48 of a–z, 0–9, _ and -, starting with a letter");

export const PolicyCategoryInput = z
  .strictObject({
    name: categoryName,
    concepts: z
      .array(z.string().trim().min(1).max(L.maxConceptChars))
      .min(1, "a category needs at least one concept")
      .max(L.maxConceptsPerCategory, `at most ${L.maxConceptsPerCategory} concepts per category`),
    threshold: z
      .number()
      .min(-1)
      .max(1)
      .optional()
      .meta({
        description: `Flag at this raw similarity or above until the policy is calibrated; default ${L.defaultThreshold}.`,
      }),
  })
  .meta({ id: "PolicyCategoryInput" });

export const CreatePolicyRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(100),
    categories: z
      .array(PolicyCategoryInput)
      .min(1, "a policy needs at least one category")
      .max(L.maxCategories, `at most ${L.maxCategories} categories`)
      .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, "category names must differ"),
  })
  .meta({ id: "CreatePolicyRequest" });
export type CreatePolicyRequest = z.infer<typeof CreatePolicyRequest>;

/** What calibration measured for one category, by cross-validation on the policy's examples. */
export const CategoryCalibration = z
  .object({
    threshold: z.number().nullable().meta({ description: "Null when the category could not be calibrated." }),
    precision: z.number().nullable(),
    recall: z.number().nullable(),
    f1: z.number().nullable(),
    positives: z.int().min(0),
    negatives: z.int().min(0),
    target_met: z.boolean(),
    rule: z.enum(["target_precision", "best_f1", "uncalibrated"]).meta({
      description:
        "`target_precision`: the lowest threshold reaching the target; `best_f1`: none reached it, the best F1 was taken; `uncalibrated`: too few examples of one kind (`reason`).",
    }),
    reason: z.string().optional(),
  })
  .meta({ id: "CategoryCalibration" });
export type CategoryCalibration = z.infer<typeof CategoryCalibration>;

export const PolicyCategory = z
  .object({
    name: z.string(),
    concepts: z.array(z.string()),
    threshold: z
      .number()
      .meta({ description: "The threshold in use for the served model: calibrated, or as set." }),
    calibration: CategoryCalibration.optional().meta({
      description: "When calibrated for the served model.",
    }),
  })
  .meta({ id: "PolicyCategory" });

export const Policy = z
  .object({
    object: z.literal("moderation_policy"),
    id: z.string(),
    name: z.string(),
    categories: z.array(PolicyCategory),
    model: z.string(),
    calibrated: z
      .boolean()
      .meta({ description: "Whether its thresholds were calibrated for the served model." }),
    target_precision: z.number().nullable(),
    examples: z.int().min(0),
    created: z.iso.datetime(),
  })
  .meta({ id: "Policy" });
export type Policy = z.infer<typeof Policy>;

export const PolicyResponse = Policy.extend({ usage: Usage }).meta({ id: "PolicyResponse" });
export const PolicyDeleted = z.object({ deleted: z.literal(1), usage: Usage }).meta({ id: "PolicyDeleted" });

const text = z.string().min(1).max(20_000);
/** One input to moderate: as in /v1/embeddings, a text (a string, or `{text}`) or `{image}`. */
export const ModerationInputItem = EmbeddingInputItem;

export const ModerationRequest = z
  .strictObject({
    input: z
      .union([ModerationInputItem, z.array(ModerationInputItem).min(1).max(L.maxInputs)])
      .optional()
      .meta({ description: `One input or 1–${L.maxInputs} (at most ${L.maxImages} images).` }),
    collection: CollectionName.optional().meta({
      description: "Score items already in this collection (with `ids`).",
    }),
    ids: z.array(ItemId).min(1).max(L.maxInputs).optional(),
    policy: PolicyId.optional().meta({ description: "Default: the built-in `default` policy." }),
  })
  .refine((r) => (r.input === undefined) !== (r.collection === undefined), {
    message: "give exactly one of input or collection (with ids)",
    path: ["input"],
  })
  .refine((r) => (r.collection === undefined) === (r.ids === undefined), {
    message: "collection and ids go together",
    path: ["ids"],
  })
  .meta({ id: "ModerationRequest", description: "**Exactly one of** `input`, or `collection` with `ids`." });
export type ModerationRequest = z.infer<typeof ModerationRequest>;

export const ModerationResult = z
  .object({
    flagged: z.boolean().meta({ description: "True when any category is." }),
    categories: z.record(z.string(), z.boolean()),
    category_scores: z.record(z.string(), z.number()).meta({
      description:
        "Calibrated probabilities when the policy is calibrated for the served model, else the raw similarities.",
    }),
    category_similarities: z.record(z.string(), z.number()).meta({
      description: "Raw similarity per category: the highest cosine to its concepts.",
    }),
    id: z.string().optional().meta({ description: "With `collection`: the item's id." }),
    error: z.object({ code: z.string(), message: z.string() }).optional().meta({
      description: "This input failed alone (not billed); its maps are empty.",
    }),
  })
  .meta({ id: "ModerationResult" });
export type ModerationResult = z.infer<typeof ModerationResult>;

export const ModerationResponse = z
  .object({
    id: z.string(),
    model: z.string(),
    policy: z.string(),
    calibrated: z.boolean(),
    results: z.array(ModerationResult),
    usage: Usage,
  })
  .meta({ id: "ModerationResponse" });
export type ModerationResponse = z.infer<typeof ModerationResponse>;

export const AddExamplesRequest = z
  .strictObject({
    examples: z
      .array(
        z.strictObject({
          text: text.optional(),
          image: ImageInput.optional(),
          categories: z
            .array(categoryName)
            .max(L.maxCategories)
            .meta({ description: "None: a clean example." }),
        }),
      )
      .min(1)
      .max(L.maxInputs),
  })
  .refine((r) => r.examples.every((e) => (e.text === undefined) !== (e.image === undefined)), {
    message: "each example has exactly one of text or image",
    path: ["examples"],
  })
  .meta({ id: "AddExamplesRequest" });
export type AddExamplesRequest = z.infer<typeof AddExamplesRequest>;

export const ExampleCounts = z
  .object({
    object: z.literal("example_counts"),
    total: z.int().min(0),
    clean: z.int().min(0),
    categories: z.record(z.string(), z.int().min(0)),
    usage: Usage,
  })
  .meta({ id: "ExampleCounts" });

export const CalibrateRequest = z
  .strictObject({
    target_precision: z
      .number()
      .gt(0)
      .max(1)
      .optional()
      .meta({ description: `Default ${L.defaultTargetPrecision}.` }),
  })
  .meta({ id: "CalibrateRequest" });

export const CalibrationResponse = z
  .object({
    object: z.literal("calibration"),
    policy: z.string(),
    model: z.string(),
    target_precision: z.number(),
    examples: z.int().min(0),
    categories: z.record(z.string(), CategoryCalibration),
    usage: Usage,
  })
  .meta({ id: "CalibrationResponse" });

export const ExamplesAdded = z
  .object({
    object: z.literal("examples_added"),
    added: z.int().min(0),
    total: z.int().min(0).meta({ description: "Examples the policy holds now." }),
    results: z.array(
      z.object({
        index: z.int().min(0),
        status: z.literal("added").optional(),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    ),
    usage: Usage,
  })
  .meta({
    id: "ExamplesAdded",
    description: "One result per example, in request order; a bad image fails alone.",
  });

export const ExamplesDeleted = z
  .object({ deleted: z.int().min(0), usage: Usage })
  .meta({ id: "ExamplesDeleted" });

/** Policies an account may keep. */
export const MAX_POLICIES_PER_ACCOUNT = 100;

export const PolicySummary = z
  .object({
    object: z.literal("moderation_policy"),
    id: z.string(),
    name: z.string(),
    created: z.iso.datetime(),
  })
  .meta({ id: "PolicySummary" });
export const PolicyList = z
  .object({
    object: z.literal("list"),
    data: z.array(PolicySummary),
    next_cursor: z.string().nullable(),
    usage: Usage,
  })
  .meta({
    id: "PolicyList",
    description: "The account's own policies (the built-in `default` is not listed).",
  });
