import sharp from "sharp";
import { targetSize } from "../../sdk/typescript/src/downsize.ts";
import type { ClipEdge } from "../../sdk/typescript/src/index.ts";
import { ALL_PAIRS, renderShapeSample } from "../../shapes-world/index.ts";

/** A seed no training run or other test uses: fresh photos of the shapes world. */
export const UPLOAD_BENCH_SEED = 0x0b1d_5123;

export interface DownsizingSample {
  width: number;
  height: number;
  downsized: { width: number; height: number };
  originalBytes: number;
  downsizedBytes: number;
  cosine: number;
}

/**
 * Renders `count` fresh photo-sized scenes (2000 × 1500 JPEG, the size of a downscaled phone photo), downsizes each
 * with sharp by the SDK's own rule (`targetSize` at /v1/models' recommended short side, JPEG as the helper encodes),
 * and embeds original and downsized through the SDK: the cosine between the two and the bytes each upload took.
 */
export async function measureDownsizing(clip: ClipEdge, count: number): Promise<DownsizingSample[]> {
  const [model] = (await clip.listModels()).data;
  if (!model) throw new Error("/v1/models lists no model");
  const { min_short_side } = model.recommended_upload;
  const samples: DownsizingSample[] = [];
  for (let index = 0; index < count; index++) {
    const pair = ALL_PAIRS[index % ALL_PAIRS.length];
    const photo = await renderShapeSample(UPLOAD_BENCH_SEED, index, {
      pairs: "all",
      pair,
      width: index % 2 ? 1500 : 2000,
      height: index % 2 ? 2000 : 1500,
      format: "jpeg",
    });
    const size = targetSize(photo.width, photo.height, min_short_side);
    // Quality 90, as downsizeImage encodes by default. sharp resamples with lanczos3, a browser canvas with its own
    // filter; either leaves the server's 224-px resize two source pixels per output pixel.
    const downsized = await sharp(photo.bytes)
      .resize(size.width, size.height)
      .jpeg({ quality: 90 })
      .toBuffer();
    const answer = await clip.createEmbeddings({
      input: [{ image: photo.bytes }, { image: new Uint8Array(downsized) }],
    });
    const [a, b] = answer.data.map((d) => d.embedding as number[]);
    samples.push({
      width: photo.width,
      height: photo.height,
      downsized: size,
      originalBytes: photo.bytes.byteLength,
      downsizedBytes: downsized.byteLength,
      cosine: cosine(a ?? [], b ?? []),
    });
  }
  return samples;
}

export function summarise(samples: DownsizingSample[]) {
  const cosines = samples.map((s) => s.cosine);
  const original = samples.reduce((sum, s) => sum + s.originalBytes, 0);
  const downsized = samples.reduce((sum, s) => sum + s.downsizedBytes, 0);
  return {
    images: samples.length,
    meanCosine: cosines.reduce((a, b) => a + b, 0) / cosines.length,
    minCosine: Math.min(...cosines),
    meanOriginalBytes: original / samples.length,
    meanDownsizedBytes: downsized / samples.length,
    bytesSaved: 1 - downsized / original,
  };
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] ?? 0) * (b[i] ?? 0);
    na += (a[i] ?? 0) ** 2;
    nb += (b[i] ?? 0) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}
