import type { Rng } from "../../shapes-world/prng.ts";
import type { MixEntry } from "./args.ts";
import type { Corpus, SoakImage } from "./corpus.ts";
import { type BadRef, type RequestKind, ROUTE_PATHS, type RouteName } from "./types.ts";

/**
 * The share of labels and texts no one has sent before. Apps mostly repeat their label sets (text-cache hits), but
 * users type new ones; without misses the soak would never exercise the GPU's text path or the cache's writes.
 */
export const FRESH_SHARE = 0.2;

/** One logical request, ready to be sent as many times as retries need. */
export interface PlannedRequest {
  route: RequestKind;
  encoding: "json" | "multipart" | "other";
  images: number;
  /** POST for the billable routes; a bad case may use another. */
  method: string;
  /** Path and query. */
  path: string;
  /**
   * The body of one attempt. A multipart form is built again for each attempt (a new boundary), as a phone
   * rebuilding its upload would; the edge must still recognise it as the same request.
   */
  body(): { body?: string | FormData | Uint8Array; headers: Record<string, string> };
  /** Set for a bad case: what it is and the answer it must get. */
  bad?: BadRef;
  /** The Idempotency-Key header to send instead of the request's own (a malformed one); null sends none. */
  idempotencyHeader?: string | null;
  /**
   * A valid request to send first, with the same Idempotency-Key, which must be served before this one is sent:
   * how "the key reused with another body" is set up. It is a request like any other, billed and reconciled.
   */
  prelude?: PlannedRequest;
}

/**
 * Picks a route by weight; `r` is uniform in [0, 1).
 *
 * @example pickRoute([{ route: "classify", weight: 3 }, { route: "captions", weight: 1 }], 0.8) // "captions"
 */
export function pickRoute(mix: readonly MixEntry[], r: number): RequestKind {
  const total = mix.reduce((sum, entry) => sum + entry.weight, 0);
  let at = r * total;
  for (const entry of mix) {
    if (at < entry.weight) return entry.route;
    at -= entry.weight;
  }
  const last = mix.at(-1);
  if (!last) throw new Error("the mix names no route");
  return last.route;
}

/**
 * A request for `route`: classify (1–4 images, 2–6 labels), embeddings (texts and/or images) or captions (1–4
 * images), JSON or multipart where the route takes both. `fresh()` returns a text never sent before.
 */
export function planRequest(route: RouteName, rng: Rng, corpus: Corpus, fresh: () => string): PlannedRequest {
  if (route === "embeddings") return planEmbeddings(rng, corpus, fresh);
  const images = Array.from({ length: rng.int(1, 4) }, () => rng.pick(corpus.images));
  const encoding = rng.chance(0.5) ? "multipart" : "json";
  const fields: Record<string, string[]> = { top_k: ["3"] };
  if (route === "classify") fields.labels = labelsFor(rng, corpus, fresh);
  return {
    route,
    encoding,
    images: images.length,
    method: "POST",
    path: ROUTE_PATHS[route],
    body: encoding === "json" ? jsonBody(images, fields) : () => multipartBody(images, fields),
  };
}

function labelsFor(rng: Rng, corpus: Corpus, fresh: () => string): string[] {
  const labels = new Set<string>();
  const wanted = rng.int(2, 6);
  // Bounded: the pool has 32 labels and fresh ones never repeat, so this ends after a few draws.
  for (let draw = 0; labels.size < wanted && draw < 100; draw++)
    labels.add(rng.chance(FRESH_SHARE) ? fresh() : rng.pick(corpus.labels));
  return [...labels];
}

function jsonBody(images: SoakImage[], fields: Record<string, string[]>) {
  const body = JSON.stringify({
    images: images.map((image) => ({ base64: image.base64 })),
    ...(fields.labels ? { labels: fields.labels } : {}),
    top_k: Number(fields.top_k?.[0] ?? 3),
  });
  return () => ({ body, headers: { "content-type": "application/json" } });
}

function multipartBody(images: SoakImage[], fields: Record<string, string[]>) {
  const form = new FormData();
  for (const image of images)
    form.append(
      "image",
      new Blob([image.bytes as Uint8Array<ArrayBuffer>], { type: image.mime }),
      image.name,
    );
  for (const [name, values] of Object.entries(fields)) for (const value of values) form.append(name, value);
  // fetch sets the multipart content type with its boundary.
  return { body: form, headers: {} };
}

function planEmbeddings(rng: Rng, corpus: Corpus, fresh: () => string): PlannedRequest {
  const texts = rng.int(0, 6);
  const images = texts === 0 ? rng.int(1, 2) : rng.int(0, 2);
  const input: unknown[] = [];
  for (let i = 0; i < texts; i++) {
    const text = rng.chance(FRESH_SHARE) ? fresh() : rng.pick(corpus.texts);
    // Both spellings the API takes: a bare string and {"text": …}.
    input.push(rng.chance(0.5) ? text : { text });
  }
  for (let i = 0; i < images; i++) input.push({ image: { base64: rng.pick(corpus.images).base64 } });
  const body = JSON.stringify({ input });
  return {
    route: "embeddings",
    encoding: "json",
    images,
    method: "POST",
    path: ROUTE_PATHS.embeddings,
    body: () => ({ body, headers: { "content-type": "application/json" } }),
  };
}
