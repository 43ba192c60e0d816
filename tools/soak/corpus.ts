import { readdirSync, readFileSync } from "node:fs";
import { ALL_PAIRS, captionBank, renderShapeSample } from "../../shapes-world/index.ts";

export interface SoakImage {
  name: string;
  mime: string;
  bytes: Uint8Array;
  base64: string;
}

/** What requests are made of: photos of the shapes world, its labels and its captions. */
export interface Corpus {
  images: readonly SoakImage[];
  /** "red circle", … — the labels an app of this world would send again and again (cached after the first). */
  labels: readonly string[];
  /** The caption bank's texts, for /v1/embeddings. */
  texts: readonly string[];
}

const EXAMPLES = new URL("../../examples/", import.meta.url);

/**
 * The repository's example photos plus fresh renders of the shapes world (all pairs, held-out ones included), sized
 * like phone uploads after downscaling. Rendering is seeded, so a run's images follow from its seed.
 *
 * @example const corpus = await loadCorpus(42); corpus.images.length // 3 examples + 24 renders
 */
export async function loadCorpus(seed: number, renders = 24): Promise<Corpus> {
  const examples = readdirSync(EXAMPLES)
    .filter((name) => name.endsWith(".jpg"))
    .sort()
    .map((name) => image(name, "image/jpeg", readFileSync(new URL(name, EXAMPLES))));
  const rendered = await Promise.all(
    Array.from({ length: renders }, async (_, index) => {
      const sample = await renderShapeSample(seed, index, { pairs: "all", shortSide: [256, 640] });
      const extension = sample.mime === "image/png" ? "png" : "jpg";
      return image(`render-${index}.${extension}`, sample.mime, sample.bytes);
    }),
  );
  return {
    images: [...examples, ...rendered],
    labels: ALL_PAIRS.map((pair) => `${pair.colour} ${pair.shape}`),
    texts: captionBank().map((caption) => caption.text),
  };
}

function image(name: string, mime: string, bytes: Uint8Array): SoakImage {
  return { name, mime, bytes, base64: Buffer.from(bytes).toString("base64") };
}
