import { API_LIMITS } from "../../../src/api/index.ts";
import { decodeBase64 } from "../../../src/encoding/base64.ts";
import { sniffFormat } from "../../../src/image-format/index.ts";
import { ApiError } from "../../errors.ts";
import { type CallBudget, type Outcome, succeeded } from "../upstream.ts";
import type { ImageUrls } from "./image-urls.ts";

/** An image as a request gives it, with the JSON pointer of where it was given (for error messages). */
export type ImageSource =
  | { kind: "bytes"; bytes: Uint8Array; pointer: string }
  | { kind: "base64"; text: string; pointer: string }
  | { kind: "url"; url: string; pointer: string };

export interface ResolveOptions {
  maxImageBytes: number;
  maxTotalBytes: number;
}

export const DEFAULT_RESOLVE_OPTIONS: ResolveOptions = {
  maxImageBytes: API_LIMITS.maxImageBytes,
  maxTotalBytes: API_LIMITS.maxTotalImageBytes,
};

/**
 * Turns a request's images into bytes, checking each before anything is sent on: base64 must decode, URLs must be
 * https and fetchable within limits (downloaded by the GPU tier, see image-urls.ts), every image must fit the byte
 * limits, and the bytes must start like an image in a format the GPU tier decodes (magic bytes; a declared
 * Content-Type is never trusted). Any problem of an input refuses the whole request (a thrown ApiError pointing at the
 * image) before any work is done or billed; a GPU tier that cannot download right now is a failure value, which the
 * route maps to its problem like any other. The first problem stops the other downloads, and it returns only once
 * they have all settled.
 */
export async function resolveImages(
  sources: readonly ImageSource[],
  urls: ImageUrls,
  budget: CallBudget,
  options: ResolveOptions = DEFAULT_RESOLVE_OPTIONS,
): Promise<Outcome<Uint8Array[]>> {
  for (const source of sources) {
    if (source.kind !== "url") continue;
    const problem = urls.check(source.url);
    if (problem) throw inputError("invalid_image_url", source.pointer, problem);
  }
  const stop = new AbortController();
  // Named fields, not a spread: a RequestScope's deadline is a getter, which a spread would not copy.
  const shared: CallBudget = {
    deadline: budget.deadline,
    keepAlive: budget.keepAlive,
    signal: budget.signal ? AbortSignal.any([budget.signal, stop.signal]) : stop.signal,
  };
  const settled = await Promise.allSettled(
    sources.map(async (source) => {
      try {
        const loaded = await loadOne(source, urls, shared, options);
        if (!loaded.ok) stop.abort();
        return loaded;
      } catch (error) {
        stop.abort();
        throw error;
      }
    }),
  );
  // An input's own problem first (the caller can fix it), in request order; then the tier's failure.
  const refused = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (refused) throw refused.reason;
  const loads = settled.map((s) => (s as PromiseFulfilledResult<Outcome<Uint8Array>>).value);
  const failures = loads.filter((l) => !l.ok);
  const failure = failures.find((l) => l.failure.code !== "cancelled") ?? failures[0];
  if (failure) return failure;
  const images = loads.map((l) => (l as { value: Uint8Array }).value);
  const total = images.reduce((sum, bytes) => sum + bytes.length, 0);
  if (total > options.maxTotalBytes) {
    throw new ApiError(
      "image_too_large",
      `the images total ${total} bytes; the limit per request is ${options.maxTotalBytes}`,
    );
  }
  return succeeded(images);
}

async function loadOne(
  source: ImageSource,
  urls: ImageUrls,
  budget: CallBudget,
  options: ResolveOptions,
): Promise<Outcome<Uint8Array>> {
  let bytes: Uint8Array;
  if (source.kind === "bytes") bytes = source.bytes;
  else if (source.kind === "base64") {
    const decoded = decodeBase64(stripDataUrl(source.text));
    if (!decoded) throw inputError("invalid_base64", source.pointer, "is not valid base64");
    bytes = decoded;
  } else {
    const outcome = await urls.fetch(source.url, budget);
    if (!outcome.ok) return outcome;
    const fetched = outcome.value;
    if (!fetched.ok) throw inputError(fetched.code, source.pointer, fetched.message);
    bytes = fetched.bytes;
  }
  if (bytes.length > options.maxImageBytes) {
    throw inputError(
      "image_too_large",
      source.pointer,
      `is ${bytes.length} bytes; the limit is ${options.maxImageBytes}`,
    );
  }
  if (bytes.length === 0) throw inputError("not_an_image", source.pointer, "is empty");
  const sniffed = sniffFormat(bytes);
  if (sniffed.kind === "unsupported")
    throw inputError(
      "not_an_image",
      source.pointer,
      `is ${sniffed.format}, which is not accepted (JPEG, PNG, WebP, GIF, AVIF, TIFF are)`,
    );
  if (sniffed.kind === "unknown")
    throw inputError(
      "not_an_image",
      source.pointer,
      "does not start like an image (JPEG, PNG, WebP, GIF, AVIF or TIFF)",
    );
  return succeeded(bytes);
}

// Apps often send what a canvas or FileReader gives them: "data:image/png;base64,…".
function stripDataUrl(text: string): string {
  const comma = text.indexOf(",");
  return text.startsWith("data:") && comma !== -1 && text.slice(0, comma).endsWith(";base64")
    ? text.slice(comma + 1)
    : text;
}

function inputError(
  code: "invalid_base64" | "not_an_image" | "image_too_large" | "invalid_image_url",
  pointer: string,
  problem: string,
): ApiError {
  return new ApiError(code, `${pointer} ${problem}`, { errors: [{ pointer, detail: problem }] });
}
