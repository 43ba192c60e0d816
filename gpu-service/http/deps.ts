import type { ClipTokenizer } from "../../src/tokenizer/index.ts";
import type { CaptionFinder } from "../captions/index.ts";
import type { ServiceConfig } from "../config.ts";
import type { ImageEmbedder } from "../embedders/image-embedder.ts";
import type { TextEmbedder } from "../embedders/text-embedder.ts";
import type { ImageFetcher } from "../fetch/index.ts";
import type { RequestGate } from "../lifecycle/request-gate.ts";
import type { ServiceMetrics } from "../metrics.ts";
import type { ClipEncoders } from "../model/index.ts";

/** Whether the service takes work: not before warm-up has finished, not once SIGTERM has arrived. */
export interface Lifecycle {
  ready: boolean;
  /** Admits requests at arrival until the drain begins (SIGTERM), then finishes those it admitted. */
  readonly requests: RequestGate;
}

/**
 * Why the service cannot take model work right now — still warming up, or its inference thread being replaced after a
 * crash — or undefined when it can. `/readyz` and the routes' admission answer 503 `not_ready` with it.
 */
export function notReadyReason(deps: Pick<ServiceDeps, "lifecycle" | "model">): string | undefined {
  return deps.lifecycle.ready ? deps.model.unavailable : "the model is still warming up";
}

/** Everything the routes use, built once at start-up. */
export interface ServiceDeps {
  config: ServiceConfig;
  model: ClipEncoders;
  tokenizer: ClipTokenizer;
  images: ImageEmbedder;
  texts: TextEmbedder;
  /** Nearest captions from the deployment's caption bank; undefined when it has none. */
  captions: CaptionFinder | undefined;
  metrics: ServiceMetrics;
  lifecycle: Lifecycle;
  /** Names the exact preprocessing, so the edge can report it and results are reproducible. */
  preprocessingVersion: string;
  /** Downloads image URLs for `/v1/fetch-image` (built from URL_FETCH_*, or injected through startService). */
  imageFetcher: ImageFetcher;
}
