import type { MiddlewareHandler } from "hono";
import { decodeBase64 } from "../../src/encoding/base64.ts";
import { ClipTokenizer, decodeCompactVocabulary } from "../../src/tokenizer/index.ts";
import { type Billing, createBilling } from "../billing/index.ts";
import { type EdgeConfig, readEdgeConfig } from "../config.ts";
import { problemResponse } from "../errors.ts";
import { COMPACT_VOCABULARY_BASE64, EDGE_MODEL } from "../generated/model.gen.ts";
import { EventLoopLag } from "./event-loop-lag.ts";
import { GpuClient } from "./gpu-client/gpu-client.ts";
import { HfFallback } from "./hf-fallback.ts";
import { Inference } from "./inference.ts";
import { LabelMatrices } from "./label-sets/label-matrices.ts";
import { LabelSetStore } from "./label-sets/label-set-store.ts";
import { PolicyStore } from "./moderation/policy-store.ts";
import { TextEmbeddingService } from "./text-embeddings/text-embedding-service.ts";

export type EdgeModel = typeof EDGE_MODEL;

/** Everything routes use, built once per isolate (the tokenizer, caches and circuit breakers live across requests). */
export interface Services {
  config: EdgeConfig;
  model: EdgeModel;
  tokenizer: ClipTokenizer;
  gpu: GpuClient;
  inference: Inference;
  texts: TextEmbeddingService;
  hf: HfFallback | undefined;
  /** How late this isolate runs ready work: the edge's own saturation. */
  eventLoop: EventLoopLag;
  /** Keys, limits, metering and the billing export. */
  billing: Billing;
  /** Saved label sets: metadata in D1, matrices in R2 behind an isolate cache. */
  labelSets: { store: LabelSetStore; matrices: LabelMatrices };
  /** Moderation policies and examples in D1; their concept embeddings in R2 behind an isolate cache. */
  moderation: { store: PolicyStore; concepts: LabelMatrices };
}

let built: { env: unknown; services: Services } | undefined;

/** Builds the services from the bindings on first use in this isolate (and again only if the bindings change). */
export function servicesFor(env: Env): Services {
  if (built?.env === env) return built.services;
  const config = readEdgeConfig(env as unknown as Record<string, unknown>);
  const vocabulary = decodeBase64(COMPACT_VOCABULARY_BASE64);
  if (!vocabulary)
    throw new Error("the bundled vocabulary is corrupt; rebuild with npm run build:edge-model");
  const tokenizer = new ClipTokenizer(decodeCompactVocabulary(vocabulary));
  const gpu = new GpuClient({
    backends: config.GPU_BACKENDS,
    secret: config.GPU_SHARED_SECRET,
    timeoutMs: config.GPU_TIMEOUT_MS,
    maxAttempts: Math.min(3, config.GPU_BACKENDS.length),
    breaker: { failureThreshold: 3, cooldownMs: config.GPU_CIRCUIT_COOLDOWN_MS },
  });
  const inference = new Inference(gpu, {
    id: EDGE_MODEL.id,
    preprocessingVersion: EDGE_MODEL.preprocessing.version,
  });
  const services: Services = {
    config,
    model: EDGE_MODEL,
    tokenizer,
    gpu,
    inference,
    eventLoop: new EventLoopLag(),
    billing: createBilling(env, config),
    labelSets: { store: new LabelSetStore(env.DB), matrices: new LabelMatrices(env.LABEL_SETS) },
    moderation: { store: new PolicyStore(env.DB), concepts: new LabelMatrices(env.LABEL_SETS, "policies") },
    texts: new TextEmbeddingService({
      encoder: inference,
      computeDeadlineMs: config.REQUEST_DEADLINE_MS,
      tokenizer,
      modelId: EDGE_MODEL.id,
      vocabularyHash: EDGE_MODEL.vocabulary.hash,
      embeddingDim: EDGE_MODEL.embeddingDim,
      contextLength: EDGE_MODEL.contextLength,
      kv: env.TEXT_CACHE,
      kvTtlSeconds: config.TEXT_CACHE_TTL_SECONDS,
      lruSize: config.TEXT_LRU_SIZE,
    }),
    hf: config.hfFallback
      ? new HfFallback({
          accessToken: config.HF_TOKEN as string,
          model: config.HF_MODEL,
          endpointUrl: config.HF_ENDPOINT_URL,
          signingSecret: ownsEndpoint(config) ? config.GPU_SHARED_SECRET : undefined,
        })
      : undefined,
  };
  built = { env, services };
  return services;
}

// Our GPU container can serve as the Hugging Face endpoint; then it expects our signature like any edge request.
function ownsEndpoint(config: EdgeConfig): boolean {
  if (!config.HF_ENDPOINT_URL) return false;
  const origin = new URL(config.HF_ENDPOINT_URL).origin;
  return config.GPU_BACKENDS.some((backend) => new URL(backend).origin === origin);
}

/** Puts the services on the context; a misconfigured deployment answers 500 and logs which binding is wrong. */
export function provideServices(): MiddlewareHandler<{ Bindings: Env }> {
  return async function provideServicesMiddleware(c, next) {
    try {
      c.set("services", servicesFor(c.env));
    } catch (error) {
      console.error(`configuration error: ${(error as Error).message}`);
      return problemResponse(
        c,
        "internal_error",
        "the service is misconfigured; the operators have been told",
      );
    }
    await next();
  };
}
