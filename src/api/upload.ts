/**
 * The upload size /v1/models recommends: the GPU tier resizes every image's short side to the model's input size and
 * centre-crops, so pixels beyond twice that size only cost bytes (twice, not once, so a client's own resampling —
 * a browser canvas, not PIL's bicubic — leaves the model's resize enough pixels to average; the cosine it keeps is
 * measured by `npm run bench:upload`). The SDK's `downsizeImage` and the bench compute sizes from this figure.
 *
 * @example recommendedUpload(224) // { min_short_side: 448, format: "jpeg" }
 */
export function recommendedUpload(imageSize: number): { min_short_side: number; format: "jpeg" } {
  return { min_short_side: imageSize * UPLOAD_SHORT_SIDE_FACTOR, format: "jpeg" };
}

/** How many times the model's input size a downsized upload's short side keeps. */
export const UPLOAD_SHORT_SIDE_FACTOR = 2;
