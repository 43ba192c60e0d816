import { LABEL_SET_LIMITS } from "../../../src/api/label-sets.ts";
import { CacheWrites } from "../text-embeddings/cache-writes.ts";
import type { TextEmbeddingService } from "../text-embeddings/text-embedding-service.ts";
import type { CallBudget, Outcome } from "../upstream.ts";
import { succeeded } from "../upstream.ts";

export interface EmbeddedLabelSet {
  rows: Float32Array[];
  /** Indexes of labels with a prompt cut to the context length. */
  truncated: number[];
  /** Prompts, as classify counts them. */
  computed: number;
  cached: number;
}

/**
 * A set's label embeddings, exactly as inline labels get them (`embedLabels`: each label's prompts embedded,
 * ensembled, rounded as served), a chunk of labels at a time so that no call carries more than
 * `maxPromptsInRequest` prompts. It reads the text cache but writes nothing to KV: the set's own matrix, in R2, is
 * what later requests read, and 2,000 labels would otherwise cost 2,000 KV writes nobody needs.
 */
export async function embedLabelSet(
  texts: TextEmbeddingService,
  labels: readonly string[],
  templates: readonly string[],
  request: { budget: CallBudget; waitUntil: (promise: Promise<unknown>) => void },
): Promise<Outcome<EmbeddedLabelSet>> {
  const perChunk = Math.max(1, Math.floor(LABEL_SET_LIMITS.maxPromptsInRequest / templates.length));
  const out: EmbeddedLabelSet = { rows: [], truncated: [], computed: 0, cached: 0 };
  const noWrites = new CacheWrites(0, request.waitUntil);
  for (let start = 0; start < labels.length; start += perChunk) {
    const chunk = labels.slice(start, start + perChunk);
    const embedded = await texts.embedLabels(chunk, templates, { ...request, cacheWrites: noWrites });
    if (!embedded.ok) return embedded;
    out.rows.push(...embedded.value.embeddings);
    for (const [i, cut] of embedded.value.truncated.entries()) if (cut) out.truncated.push(start + i);
    out.computed += embedded.value.computed;
    out.cached += embedded.value.cached;
  }
  return succeeded(out);
}

/** How many prompts a set embeds: what creating it reserves and, at most, bills as texts. */
export const promptsOf = (labels: readonly unknown[], templates: readonly unknown[]) =>
  labels.length * templates.length;
