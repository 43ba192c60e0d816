import { createRoute } from "@hono/zod-openapi";
import { RANK_LIMITS, RankRequest, RankResponse } from "../../src/api/rank.ts";
import { dot, softmax } from "../../src/vector/index.ts";
import type { App } from "../context.ts";
import { allImagesFailed } from "../errors.ts";
import { billUsage, usageOf } from "../middleware/metering/usage.ts";
import { parameterRef } from "../openapi/components.ts";
import { ROUTE_ERRORS as E, errorsOf } from "../openapi/problems.ts";
import { addRoute, jsonResponse, v1Headers } from "../openapi/route.ts";
import { readJsonBody } from "../request/read-body.ts";
import { modelHeaders } from "../responses.ts";
import { embedSources, refusedQuery, type VectorSource } from "../services/collections/item-vectors.ts";

export const rankRoute = createRoute({
  method: "post",
  path: "/v1/rank",
  operationId: "rank",
  tags: ["Vision"],
  summary: "Rank candidates against a query",
  description: `Ranks 1–${RANK_LIMITS.maxCandidates} candidates (texts or images) against one query (a text or an
image), best first: \`similarity\` is the cosine, \`clip_score\` CLIPScore (max(100 · cosine, 0)), \`probability\`
the softmax over the ranked candidates at the model's logit scale. Every direction works: a prompt over generated
images, a photo over captions, text over text, image over image. At most ${RANK_LIMITS.maxImages} images, the
query's included. Text candidates go through the text cache. A bad candidate fails alone (\`failed\`, not billed); a
bad query fails the request.`,
  security: [{ ApiKey: [] }],
  parameters: [parameterRef("IdempotencyKey"), parameterRef("RequestId")],
  request: {
    body: {
      required: true,
      content: {
        "application/json": {
          schema: RankRequest,
          example: {
            query: { text: "a photo of a red circle" },
            candidates: [
              { id: "a", image: { url: "https://example.com/a.jpg" } },
              { id: "b", text: "a red circle" },
            ],
            top_k: 2,
          },
        },
      },
    },
  },
  responses: {
    200: jsonResponse(
      RankResponse,
      "The candidates, best first.",
      {
        model: "clip-edge/tiny-clip",
        results: [
          { index: 1, id: "b", similarity: 0.91, clip_score: 91, probability: 0.99 },
          { index: 0, id: "a", similarity: 0.62, clip_score: 62, probability: 0.01 },
        ],
        usage: { images: 1, texts_computed: 2, texts_cached: 0 },
      },
      v1Headers({ model: true, post: true }),
    ),
  },
});

/** `POST /v1/rank` (see `description`). */
export function registerV1Rank(app: App): void {
  const errors = errorsOf(E.any, E.apiKey, E.billed, E.idempotent, E.body, E.images, E.gpu, [
    "all_inputs_failed",
    "image_decode_failed",
  ]);
  addRoute(app, rankRoute, errors, async (c) => {
    const request = await readJsonBody(c, RankRequest);
    const services = c.get("services");
    const sourceOf = (
      input: { text?: string; image?: RankRequest["query"]["image"] },
      pointer: string,
    ): VectorSource =>
      input.image
        ? { kind: "image", image: input.image, pointer }
        : { kind: "text", text: input.text as string };
    const sources = [
      sourceOf(request.query, "/query/image"),
      ...request.candidates.map((candidate, i) => sourceOf(candidate, `/candidates/${i}/image`)),
    ];
    const embedded = await embedSources(c, sources);
    const [query, ...vectors] = embedded.vectors;
    if (!(query instanceof Float32Array))
      throw refusedQuery(query, request.query.image ? "/image" : "/query");
    const ranked: { index: number; similarity: number }[] = [];
    const failed: NonNullable<RankResponse["failed"]> = [];
    for (const [index, vector] of vectors.entries()) {
      const id = request.candidates[index]?.id;
      if (vector instanceof Float32Array) ranked.push({ index, similarity: dot(query, vector) });
      else failed.push({ index, ...(id === undefined ? {} : { id }), error: vector });
    }
    if (ranked.length === 0) throw allImagesFailed(failed.map((f) => f.error));
    const probabilities = softmax(
      ranked.map((r) => r.similarity),
      services.model.logitScale,
    );
    const results = ranked
      .map((r, k) => {
        const id = request.candidates[r.index]?.id;
        return {
          index: r.index,
          ...(id === undefined ? {} : { id }),
          similarity: r.similarity,
          clip_score: Math.max(100 * r.similarity, 0),
          probability: probabilities[k] as number,
        };
      })
      .sort((a, b) => b.similarity - a.similarity || a.index - b.index)
      .slice(0, request.top_k ?? ranked.length);
    const body: RankResponse = {
      model: services.model.id,
      results,
      ...(failed.length ? { failed } : {}),
      usage: billUsage(c, usageOf(embedded.images, embedded.texts)),
    };
    return c.json(body, 200, modelHeaders(services));
  });
}
