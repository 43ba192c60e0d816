import { zeroShotImageClassification } from "@huggingface/inference";
import { signRequest } from "../../src/signing/index.ts";

export interface HfFallbackOptions {
  accessToken: string;
  /** A model on Hugging Face's hosted inference… */
  model?: string;
  /** …or a dedicated endpoint (e.g. our own GPU container deployed as an Inference Endpoint). */
  endpointUrl?: string;
  /** When the endpoint is one of our own GPU backends, requests are signed as any edge → GPU request is. */
  signingSecret?: string;
}

/**
 * The hosted fallback for /v1/classify when no GPU backend can answer: Hugging Face's zero-shot image
 * classification through `@huggingface/inference`. It answers scores only (no raw similarities), with one template.
 */
export class HfFallback {
  private readonly options: HfFallbackOptions;

  constructor(options: HfFallbackOptions) {
    this.options = options;
  }

  async classify(
    image: Uint8Array,
    labels: readonly string[],
    template: string,
    signal?: AbortSignal,
  ): Promise<{ label: string; score: number }[]> {
    const { accessToken, model, endpointUrl, signingSecret } = this.options;
    return zeroShotImageClassification(
      {
        accessToken,
        ...(endpointUrl ? { endpointUrl } : { model }),
        inputs: { image: new Blob([image as Uint8Array<ArrayBuffer>]) },
        parameters: { candidate_labels: [...labels], hypothesis_template: template },
      },
      // No retries inside the library: it would resend every 503 at once, hammering a backend that just said it is
      // busy, draining or warming. One attempt within the request's deadline; the client retries after Retry-After.
      { signal, retry_on_error: false, fetch: signingSecret ? signingFetch(signingSecret) : undefined },
    );
  }
}

function signingFetch(secret: string): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const body = new Uint8Array(await request.arrayBuffer());
    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const [name, value] of Object.entries(
      await signRequest({ secret, method: request.method, path: url.pathname + url.search, body }),
    )) {
      headers.set(name, value);
    }
    return fetch(request.url, { method: request.method, headers, body, signal: init?.signal ?? undefined });
  };
}
