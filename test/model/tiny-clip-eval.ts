/**
 * Zero-shot and caption-retrieval evaluation of a CLIP ONNX folder on fresh shapes-world renders.
 * Shared by the accuracy test and by anyone re-measuring the model card's figures.
 */
import { loadClipTokenizer } from "../../src/tokenizer/index.ts";
import {
  ALL_PAIRS,
  captionBank,
  isHeldOut,
  type PairSet,
  renderShapeSample,
  type ShapeSample,
  zeroShotPrompt,
} from "../../tools/tiny-clip/shapes-world/index.ts";
import { clipPixels } from "./clip-pixels.ts";
import { cosine, loadOnnxClip } from "./onnx-clip.ts";

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
    const s = cosine(image, t);
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
  const clip = await loadOnnxClip(modelDir);
  try {
    const prompts = await clip.embedText(
      ALL_PAIRS.map((p) => tokenizer.encode(zeroShotPrompt(p.colour, p.shape))),
    );
    const bank = captionBank();
    const bankEmbeds = await clip.embedText(bank.map((c) => tokenizer.encode(c.text)));
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
      const pixels = new Float32Array(batch.length * 3 * 224 * 224);
      await Promise.all(batch.map((s, i) => clipPixels(s.bytes, pixels, i)));
      const images = await clip.embedImages(pixels, batch.length);
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
