import type { CaptionBankWriter } from "../../gpu-service/captions/index.ts";
import type { ClipModel } from "../../gpu-service/model/index.ts";
import type { ClipTokenizer } from "../../src/tokenizer/index.ts";
import { normalizeRows } from "../../src/vector/index.ts";

export interface EmbedCaptionsOptions {
  texts: readonly string[];
  model: ClipModel;
  tokenizer: ClipTokenizer;
  writer: CaptionBankWriter;
  batchSize: number;
  /** Called after every encoder run with the number of captions embedded so far. */
  onProgress?: (done: number) => void;
}

// Captions are sorted by length within a window of this many batches, so a batch pads to similar lengths; the
// window bounds the memory and keeps the bank in corpus order.
const BATCHES_PER_WINDOW = 16;

/**
 * Embeds captions with the text encoder, in the corpus order, and appends them (L2-normalised) to the bank writer.
 * Batches hold captions of similar token counts and are padded only to their longest: the encoder's causal mask
 * keeps the end token blind to the padding after it, so the embedding does not depend on the batch.
 *
 * @example const { truncated } = await embedCaptions({ texts, model, tokenizer, writer, batchSize: 64 });
 */
export async function embedCaptions(options: EmbedCaptionsOptions): Promise<{ truncated: number }> {
  const { texts, model, tokenizer, writer, batchSize } = options;
  const dim = model.embeddingDim;
  const windowSize = batchSize * BATCHES_PER_WINDOW;
  let truncated = 0;
  let done = 0;
  for (let start = 0; start < texts.length; start += windowSize) {
    const window = texts.slice(start, start + windowSize);
    const tokens = tokenizer.tokenize(window, { contextLength: model.folder.contextLength });
    truncated += tokens.truncated.filter(Boolean).length;
    const order = window
      .map((_, i) => i)
      .sort((a, b) => (tokens.lengths[a] as number) - (tokens.lengths[b] as number));
    const rows = new Float32Array(window.length * dim);
    for (let first = 0; first < order.length; first += batchSize) {
      const batch = order.slice(first, first + batchSize);
      const lengths = batch.map((i) => tokens.lengths[i] as number);
      const length = Math.max(...lengths);
      const ids = new BigInt64Array(batch.length * length);
      for (const [row, i] of batch.entries()) {
        const source = tokens.ids[i] as Int32Array;
        for (let j = 0; j < (lengths[row] as number); j++)
          ids[row * length + j] = BigInt(source[j] as number);
      }
      const embeddings = normalizeRows(
        await model.embedTexts({ ids, count: batch.length, length, lengths }),
        dim,
      );
      for (const [row, i] of batch.entries())
        rows.set(embeddings.subarray(row * dim, (row + 1) * dim), i * dim);
      done += batch.length;
      options.onProgress?.(done);
    }
    await writer.append(window, rows);
  }
  return { truncated };
}
