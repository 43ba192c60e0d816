import * as z from "zod";
import { MAX_EXPLAIN_GRID, MIN_EXPLAIN_GRID } from "../protocol/explain.ts";
import { ImageInput, labelList, templateList } from "./requests.ts";
import { Usage } from "./responses.ts";

/**
 * `/v1/explain`: where in the photo a label matched, by occlusion sensitivity — how much the label's similarity falls
 * when each cell of a grid over the model's crop is hidden. Request and response shapes (zod).
 */

export const EXPLAIN_LIMITS = { maxLabels: 8, defaultGrid: 7 } as const;

export const ExplainRequest = z
  .strictObject({
    image: ImageInput,
    labels: labelList(EXPLAIN_LIMITS.maxLabels),
    templates: templateList,
    grid: z
      .int()
      .min(MIN_EXPLAIN_GRID)
      .max(MAX_EXPLAIN_GRID)
      .optional()
      .meta({
        description: `Cells per side, ${MIN_EXPLAIN_GRID}–${MAX_EXPLAIN_GRID} (at most the plan's \`explain_max_grid\`); default ${EXPLAIN_LIMITS.defaultGrid}. Costs grid² + 1 image passes.`,
      }),
  })
  .meta({ id: "ExplainRequest" });
export type ExplainRequest = z.infer<typeof ExplainRequest>;

export const PixelBox = z
  .object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() })
  .meta({ id: "PixelBox", description: "A box in the original image's pixels, after its EXIF orientation." });

export const ExplainResult = z
  .object({
    label: z.string(),
    score: z
      .number()
      .meta({ description: "Softmax over the labels at the model's logit scale, as in classify." }),
    similarity: z.number().meta({ description: "Cosine between the whole (unoccluded) crop and the label." }),
    grid: z.object({
      rows: z.int(),
      cols: z.int(),
      scores: z.array(z.array(z.number())).meta({
        description:
          "scores[r][c]: how much the label's similarity falls when that cell is hidden, divided by the largest fall (1 at the peak; rises clipped at 0; all 0 when no cell lowers it).",
      }),
    }),
    peak: PixelBox.meta({ description: "The cell whose hiding lowers the similarity most." }),
  })
  .meta({ id: "ExplainResult" });

export const ExplainResponse = z
  .object({
    model: z.string(),
    image: z.object({ width: z.int(), height: z.int() }).meta({ description: "After EXIF orientation." }),
    crop: PixelBox.meta({ description: "The region the model saw (its centre crop); the grid covers it." }),
    results: z.array(ExplainResult),
    method: z.object({
      name: z.literal("occlusion"),
      occluder: z
        .string()
        .meta({ description: "`normalized-mean`: a hidden cell is the model's mean colour." }),
      window: z.int().meta({
        description:
          "The side of the square hidden to measure a cell, in cells, centred on it: 2 = the cell and half a cell around it.",
      }),
      passes: z.int().meta({ description: "Image-encoder passes: grid² + 1, billed as images." }),
    }),
    usage: Usage,
  })
  .meta({ id: "ExplainResponse" });
export type ExplainResponse = z.infer<typeof ExplainResponse>;
