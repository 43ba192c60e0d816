import * as z from "zod";
import { API_LIMITS } from "./limits.ts";
import { labelList, templateList } from "./requests.ts";
import { Usage } from "./responses.ts";

/**
 * Saved label sets: a label list (and its templates) embedded once, ensembled, and stored, so classifying against the
 * same 300 product categories costs no text work per request. Request and response shapes (zod).
 */

export const LABEL_SET_LIMITS = {
  /** Labels in one set, whatever the plan allows (`storage_limits.labels_per_set` may allow fewer). */
  maxLabels: 2000,
  maxNameChars: 100,
  /**
   * Prompts (labels × templates) embedded within the creating request; a larger set answers 202 and is built by the
   * queue consumer. 2,048 prompts is one GPU-tier text batch of the largest size the edge sends, a few seconds on CPU.
   */
  maxPromptsInRequest: 2048,
  defaultPageSize: 50,
  maxPageSize: 200,
} as const;

/** `ls_` and 24 hex digits: public, unguessable, never reused. */
export const LABEL_SET_ID = /^ls_[0-9a-f]{24}$/;
export const LabelSetId = z
  .string()
  .regex(LABEL_SET_ID, "a label set id looks like ls_ and 24 hex digits")
  .meta({ description: "A label set's id (`ls_…`).", example: "ls_6f1c0e9a2b4d8c7e5f3a1b2c" });

export const CreateLabelSetRequest = z
  .strictObject({
    name: z.string().trim().min(1).max(LABEL_SET_LIMITS.maxNameChars),
    labels: labelList(LABEL_SET_LIMITS.maxLabels),
    templates: templateList,
  })
  .meta({
    id: "CreateLabelSetRequest",
    description: `1–${LABEL_SET_LIMITS.maxLabels} labels (at most the plan's \`labels_per_set\`) and the templates to ensemble them over (default: the project's seven).`,
  });
export type CreateLabelSetRequest = z.infer<typeof CreateLabelSetRequest>;

export const LABEL_SET_STATUSES = ["ready", "building", "failed"] as const;
export type LabelSetStatus = (typeof LABEL_SET_STATUSES)[number];

export const LabelSet = z
  .object({
    object: z.literal("label_set"),
    id: z.string(),
    name: z.string(),
    labels: z.array(z.string()),
    templates: z.array(z.string()),
    model: z.string().meta({ description: "The model that embedded it; classify with another is a 409." }),
    status: z.enum(LABEL_SET_STATUSES).meta({
      description:
        "`ready`: classify with it. `building`: being embedded in the background (poll this). `failed`: the build gave up (`error` says why); delete it and create it again.",
    }),
    error: z.string().optional(),
    created: z.iso.datetime(),
  })
  .meta({ id: "LabelSet" });
export type LabelSet = z.infer<typeof LabelSet>;

/** One label set as `POST` and `GET /v1/label-sets/{id}` answer it. */
export const LabelSetResponse = LabelSet.extend({ usage: Usage }).meta({ id: "LabelSetResponse" });

/** A set as a list shows it: without its labels, which can be thousands. */
export const LabelSetSummary = LabelSet.omit({ labels: true, templates: true })
  .extend({ label_count: z.int().min(1) })
  .meta({ id: "LabelSetSummary" });

export const LabelSetList = z
  .object({
    object: z.literal("list"),
    data: z.array(LabelSetSummary),
    next_cursor: z.string().nullable(),
    usage: Usage,
  })
  .meta({ id: "LabelSetList" });

export const LabelSetDeleted = z
  .object({ deleted: z.literal(1), usage: Usage })
  .meta({ id: "LabelSetDeleted" });

/** A label set's classify limits are the inline ones' where they overlap. */
export const LABEL_SET_TOP_K_MAX = API_LIMITS.maxTopK;
