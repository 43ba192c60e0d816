/**
 * Zero-shot and caption-retrieval evaluation of a CLIP ONNX folder on fresh shapes-world renders.
 * Shared by the accuracy test and by anyone re-measuring the model card's figures.
 */
import { preprocessImageInto } from "../../gpu-service/image/pipeline.ts";
import { ClipModel } from "../../gpu-service/model/index.ts";
import { loadClipTokenizer } from "../../gpu-service/model/tokenizer-files.ts";
import {
  ALL_PAIRS,
  captionBank,
  isHeldOut,
  type PairSet,
  renderShapeSample,
  type ShapeSample,
  zeroShotPrompt,
} from "../../shapes-world/index.ts";
import { cosineSimilarity } from "../../src/vector/index.ts";

/** Never used for training (11), validation (12) or the BPE corpus (1001). */
export const EVAL_SEEDS = { mixed: 4242, heldOut: 4243 };

export type EvalReport = {
  images: number;
  zeroShot: number;
  zeroShotSeen: number;
  zeroShotHeldOut: number;
  heldOutImages: number;
  retrieval: number;
  perPair: Record<string, { n: number; correct: number }>;
};

async function renderMany(seed: number, count: number, pairs: PairSet): Promise<ShapeSample[]> {
  const samples: ShapeSample[] = [];
  for (let start = 0; start < count; start += 16) {
    const batch = Array.from({ length: Math.min(16, count - start) }, (_, i) =>
      renderShapeSample(seed, start + i, { pairs }),
    );
    samples.push(...(await Promise.all(batch)));
  }
  return samples;
}

function argmaxSimilarity(image: Float32Array, texts: Float32Array[]): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  texts.forEach((t, i) => {
    const s = cosineSimilarity(image, t);
    if (s > bestScore) {
      bestScore = s;
      best = i;
    }
  });
  return best;
}

export async function evaluateModel(
  modelDir: string,
  counts = { mixed: 256, heldOut: 64 },
): Promise<EvalReport> {
  const tokenizer = await loadClipTokenizer(modelDir);
  // The GPU tier's own model runtime and preprocessing, so the figures are those of the served pipeline.
  const clip = await ClipModel.load(modelDir, { providers: ["cpu"] });
  const embedText = async (texts: string[]) => {
    const rows = tokenizer.tokenize(texts, { contextLength: clip.folder.contextLength });
    const length = Math.max(...rows.lengths);
    const ids = new BigInt64Array(texts.length * length);
    for (const [r, row] of rows.ids.entries())
      for (let i = 0; i < length; i++) ids[r * length + i] = BigInt(row[i] ?? 0);
    const flat = await clip.embedTexts({ ids, count: texts.length, length, lengths: rows.lengths });
    return texts.map((_, r) => flat.slice(r * clip.embeddingDim, (r + 1) * clip.embeddingDim));
  };
  try {
    const prompts = await embedText(ALL_PAIRS.map((p) => zeroShotPrompt(p.colour, p.shape)));
    const bank = captionBank();
    const bankEmbeds = await embedText(bank.map((c) => c.text));
    const samples = [
      ...(await renderMany(EVAL_SEEDS.mixed, counts.mixed, "all")),
      ...(await renderMany(EVAL_SEEDS.heldOut, counts.heldOut, "held-out")),
    ];
    const perPair: EvalReport["perPair"] = {};
    let mixedCorrect = 0;
    let seen = { n: 0, correct: 0 };
    let held = { n: 0, correct: 0 };
    let retrieved = 0;
    for (let start = 0; start < samples.length; start += 32) {
      const batch = samples.slice(start, start + 32);
      const size = 3 * 224 * 224;
      const pixels = new Float32Array(batch.length * size);
      await Promise.all(
        batch.map((s, i) => preprocessImageInto(s.bytes, clip.folder.preprocess, pixels, i * size)),
      );
      const flat = await clip.embedImages(pixels, batch.length);
      const images = batch.map((_, i) => flat.slice(i * clip.embeddingDim, (i + 1) * clip.embeddingDim));
      batch.forEach((sample, i) => {
        const image = images[i] as Float32Array;
        const predicted = ALL_PAIRS[argmaxSimilarity(image, prompts)];
        const correct = predicted?.colour === sample.colour && predicted.shape === sample.shape;
        const caption = bank[argmaxSimilarity(image, bankEmbeds)];
        if (caption?.colour === sample.colour && caption.shape === sample.shape) retrieved++;
        if (start + i < counts.mixed && correct) mixedCorrect++;
        const key = `${sample.colour} ${sample.shape}`;
        perPair[key] ??= { n: 0, correct: 0 };
        perPair[key].n++;
        if (correct) perPair[key].correct++;
        const tally = isHeldOut(sample) ? held : seen;
        tally.n++;
        if (correct) tally.correct++;
      });
    }
    seen = { ...seen };
    held = { ...held };
    return {
      images: samples.length,
      zeroShot: mixedCorrect / counts.mixed,
      zeroShotSeen: seen.correct / seen.n,
      zeroShotHeldOut: held.correct / held.n,
      heldOutImages: held.n,
      retrieval: retrieved / samples.length,
      perPair,
    };
  } finally {
    await clip.release();
  }
}
