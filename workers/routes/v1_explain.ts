import { createRoute, z } from "@hono/zod-openapi";
import { EXPLAIN_LIMITS, ExplainRequest, ExplainResponse } from "../../src/api/explain.ts";
import { DEFAULT_TEMPLATES, EXAMPLE_IMAGE_BASE64 } from "../../src/api/index.ts";
import { encodeBase64 } from "../../src/encoding/base64.ts";
import { OCCLUDER, OCCLUSION_WINDOW, occlusionCells } from "../../src/protocol/explain.ts";
import { softmax } from "../../src/vector/index.ts";
import type { App } from "../context.ts";
import { ApiError, allImagesFailed } from "../errors.ts";
import { billUsage, usageOf } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { imageSources } from "../request/images-from-request.ts";
import { readJsonBody, validate } from "../request/read-body.ts";
import { modelHeaders, truncationWarnings } from "../responses.ts";
import { occlusionMap } from "../services/explain/occlusion-maps.ts";
import { imageUrlsOf } from "../services/images/image-urls.ts";
import { resolveImages } from "../services/images/resolve-images.ts";
import { textRequest } from "../services/text-embeddings/text-request.ts";
import { servedOrThrow } from "../services/upstream.ts";

const ExplainQuery = z.strictObject({
  format: z
    .enum(["json", "png"])
    .optional()
    .meta({ description: "`png`: the heatmap picture (also `Accept: image/png`)." }),
});

export const explainRoute = createRoute({
  method: "post",
  path: "/v1/explain",
  operationId: "explain",
  tags: ["Vision"],
  summary: "Show where in the photo a label matched",
  description: `Occlusion sensitivity: the model sees only its centre crop, so a grid of grid × grid cells is laid over
that crop; each cell is hidden in turn with half a cell around it (set to the model's mean colour, zero in its
normalised input) and the fall of each label's similarity is measured. \`scores[r][c]\` is that fall divided by the largest one (1 at the peak; a cell
whose hiding raises the similarity is 0), \`peak\` the cell of the largest fall. Every box is in the original image's
pixels after its EXIF orientation, to draw on the photo the app has. It costs grid² + 1 image-encoder passes, billed as
that many images; the plan's \`explain_max_grid\` bounds the grid. A label can also depend on context outside the
object, which a single hidden cell does not show. With \`?format=png\` (or \`Accept: image/png\`) the answer is the
crop with the first label's heatmap over it, at most 512 px on its long side.`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    query: ExplainQuery,
    body: {
      required: true,
      content: {
        "application/json": {
          schema: ExplainRequest,
          example: {
            image: { base64: EXAMPLE_IMAGE_BASE64 },
            labels: ["red circle", "blue star"],
            grid: 4,
          },
        },
      },
    },
  },
  responses: {
    200: {
      description:
        "Per label, its map over the crop and its peak, in the photo's pixels; or the heatmap as a PNG.",
      headers: jsonResponse(ExplainResponse, "", null, v1Headers({ model: true, post: true })).headers,
      content: {
        "application/json": {
          schema: ExplainResponse,
          example: {
            model: "clip-edge/tiny-clip",
            image: { width: 640, height: 480 },
            crop: { x: 80, y: 0, width: 480, height: 480 },
            results: [
              {
                label: "red circle",
                score: 0.98,
                similarity: 0.71,
                grid: {
                  rows: 4,
                  cols: 4,
                  scores: [
                    [0, 0.1, 0, 0],
                    [0, 1, 0.4, 0],
                    [0, 0.2, 0, 0],
                    [0, 0, 0, 0],
                  ],
                },
                peak: { x: 200, y: 120, width: 120, height: 120 },
              },
            ],
            method: { name: "occlusion", occluder: OCCLUDER, window: OCCLUSION_WINDOW, passes: 17 },
            usage: { images: 17, texts_computed: 7, texts_cached: 0 },
          },
        },
        "image/png": {
          schema: z
            .string()
            .meta({ format: "binary", description: "The crop with the first label's heatmap." }),
        },
      },
    },
  },
});

/** `POST /v1/explain` (see `description`). */
export function registerV1Explain(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.query, E.images, E.gpu, [
    "all_inputs_failed",
  ]);
  addRoute(app, explainRoute, errors, async (c) => {
    const { format } = validate(ExplainQuery, c.req.query());
    const png =
      format === "png" || (format === undefined && (c.req.header("accept") ?? "").includes("image/png"));
    const request = await readJsonBody(c, ExplainRequest);
    const services = c.get("services");
    const grid = request.grid ?? EXPLAIN_LIMITS.defaultGrid;
    const allowed = c.get("metering")?.plan.explain_max_grid ?? EXPLAIN_LIMITS.defaultGrid;
    if (grid > allowed)
      throw new ApiError(
        "invalid_request",
        `the ${c.get("apiKey").plan} plan allows grids up to ${allowed}`,
        {
          errors: [{ pointer: "/grid", detail: `at most ${allowed}` }],
        },
      );
    const templates = request.templates ?? [...DEFAULT_TEMPLATES];
    const scope = c.get("scope");
    const [image] = servedOrThrow(
      await resolveImages(
        imageSources([request.image], () => "/image"),
        imageUrlsOf(c),
        scope,
      ),
    ) as [Uint8Array];
    const [labels, occluded] = servedOrThrow(
      await scope.all([
        (budget) => services.texts.embedLabels(request.labels, templates, textRequest(c, budget)),
        (budget) => services.inference.explainOcclusion(image, grid, budget),
      ]),
    );
    const first = occluded.items[0];
    if (!first?.ok || !occluded.geometry)
      throw allImagesFailed([
        first && !first.ok ? first : { code: "internal_error", message: "no embedding" },
      ]);
    const geometry = occluded.geometry;
    const embeddings = occluded.items.map((item) =>
      item.ok ? item.embedding : (first.embedding as Float32Array),
    );
    const cells = occlusionCells(geometry);
    const maps = labels.embeddings.map((label) => occlusionMap(embeddings, label, geometry, cells));
    const scores = softmax(
      maps.map((m) => m.similarity),
      services.model.logitScale,
    );
    const passes = grid * grid + 1;
    const usage = billUsage(c, usageOf(passes, labels));
    if (png) {
      const picture = servedOrThrow(
        await services.inference.explainHeatmap(
          { image: encodeBase64(image), scores: (maps[0] as (typeof maps)[number]).scores },
          scope,
        ),
      );
      return c.body(new Uint8Array(picture).buffer, 200, {
        "content-type": "image/png",
        ...modelHeaders(services),
      });
    }
    const warnings = truncationWarnings(labels.truncated, (i) => `/labels/${i}`, "label");
    const body: ExplainResponse & { warnings?: unknown } = {
      model: services.model.id,
      image: geometry.image,
      crop: geometry.crop,
      results: maps.map((m, i) => ({
        label: request.labels[i] as string,
        score: scores[i] as number,
        similarity: m.similarity,
        grid: { rows: grid, cols: grid, scores: m.scores },
        peak: m.peak,
      })),
      method: { name: "occlusion", occluder: geometry.occluder, window: geometry.window, passes },
      usage,
      ...(warnings.length ? { warnings } : {}),
    };
    // Typed here: with image/png declared too, the library would accept any Response for this route.
    return c.json(body as ExplainResponse, 200, modelHeaders(services));
  });
}
