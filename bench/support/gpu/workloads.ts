/**
 * The two upload mixes bench:gpu measures: phone photos as a camera writes them (1–12 MP JPEGs), and the small
 * uploads the SDK's downsizeImage sends (short side 448 px, JPEG). Rendered by the shapes world, so every run (and
 * every machine) sees the same images.
 */
import { renderShapeSample } from "../../../shapes-world/index.ts";

export interface Workload {
  name: string;
  /** What a reader of the table needs to know about the images. */
  description: string;
  images: Uint8Array[];
}

export const PHONE_MEGAPIXELS = [1, 2, 3, 5, 8, 12] as const;

/** `count` phone-sized JPEGs cycling through PHONE_MEGAPIXELS. */
export async function phonePhotos(count: number): Promise<Workload> {
  const images = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const megapixels = PHONE_MEGAPIXELS[i % PHONE_MEGAPIXELS.length];
      return (await renderShapeSample(0xbe7c_0001, i, { pairs: "all", megapixels, format: "jpeg" })).bytes;
    }),
  );
  const mean = PHONE_MEGAPIXELS.reduce((a, b) => a + b, 0) / PHONE_MEGAPIXELS.length;
  return { name: "phone photos", description: `1–12 MP JPEGs, mean ${mean.toFixed(1)} MP`, images };
}

/** `count` JPEGs of `megapixels` each: one row of the per-size table. */
export async function photosOf(megapixels: number, count: number): Promise<Workload> {
  const images = await Promise.all(
    Array.from(
      { length: count },
      async (_, i) =>
        (await renderShapeSample(0xbe7c_0002, i, { pairs: "all", megapixels, format: "jpeg" })).bytes,
    ),
  );
  return { name: `${megapixels} MP`, description: `${megapixels} MP JPEGs`, images };
}

/** `count` JPEGs with a 448 px short side (the SDK's recommended upload for a 224 px model). */
export async function sdkUploads(count: number, shortSide = 448): Promise<Workload> {
  const images = await Promise.all(
    Array.from(
      { length: count },
      async (_, i) =>
        (
          await renderShapeSample(0xbe7c_0003, i, {
            pairs: "all",
            shortSide: [shortSide, shortSide],
            format: "jpeg",
          })
        ).bytes,
    ),
  );
  return { name: "SDK uploads", description: `${shortSide} px short side JPEGs`, images };
}
