import type { components } from "./generated/openapi.gen.ts";

/**
 * An image as an app has it: a Blob or File (browsers, Workers, Node 18+), bytes, base64 (a `data:` URL too), or a
 * public https URL the edge fetches. React Native: pass base64 or `{ url }` (its Blob has no readable bytes).
 */
export type ImageSource = Blob | Uint8Array | ArrayBuffer | string | { url: string } | { base64: string };

type ImageInput = components["schemas"]["ImageInput"];

/** True for the sources multipart can carry as a file part (so they need no base64, a third fewer bytes). */
export function isBinaryImage(image: ImageSource): image is Blob | Uint8Array | ArrayBuffer {
  return isBlob(image) || image instanceof Uint8Array || image instanceof ArrayBuffer;
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== "undefined" && value instanceof Blob;
}

/** The JSON form of an image, `{ base64 }` or `{ url }`. */
export async function toImageInput(image: ImageSource): Promise<ImageInput> {
  if (typeof image === "string") return { base64: image };
  if (isBlob(image)) return { base64: bytesToBase64(new Uint8Array(await image.arrayBuffer())) };
  if (image instanceof Uint8Array) return { base64: bytesToBase64(image) };
  if (image instanceof ArrayBuffer) return { base64: bytesToBase64(new Uint8Array(image)) };
  return image;
}

/** A Blob for a multipart file part. */
export function toBlob(image: Blob | Uint8Array | ArrayBuffer): Blob {
  if (isBlob(image)) return image;
  // A copy: a Uint8Array may view a larger or shared buffer, which Blob would not accept as is.
  return new Blob([image instanceof Uint8Array ? image.slice() : new Uint8Array(image)]);
}

/** Base64 without Node's Buffer (btoa exists in browsers, React Native's Hermes, Node and Workers). */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  // In chunks: String.fromCharCode with one argument per byte would overflow the stack on a photo.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * Replaces every `image` / `images` value in a request body by its JSON form, leaving everything else alone; the
 * routes name image fields this way throughout (embeddings' input items, rank, explain, moderations, collections).
 */
export async function encodeImages(value: unknown, key?: string): Promise<unknown> {
  if (key === "image" && isImageSource(value)) return toImageInput(value);
  if (key === "images" && Array.isArray(value) && value.every(isImageSource)) {
    return Promise.all(value.map(toImageInput));
  }
  if (Array.isArray(value)) return Promise.all(value.map((item) => encodeImages(item)));
  if (value !== null && typeof value === "object" && !isBinaryImage(value as ImageSource)) {
    const entries = await Promise.all(
      Object.entries(value).map(async ([k, v]) => [k, await encodeImages(v, k)] as const),
    );
    return Object.fromEntries(entries);
  }
  return value;
}

function isImageSource(value: unknown): value is ImageSource {
  if (typeof value === "string" || isBlob(value)) return true;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return true;
  return value !== null && typeof value === "object" && ("url" in value || "base64" in value);
}
