import { availableParallelism } from "node:os";
import {
  type AddressAllowList,
  type AddressList,
  parseAddressList,
  parseAllowList,
} from "../src/net/index.ts";
import type { ImageLimits } from "./image/errors.ts";
import type { ExecutionProvider, Precision } from "./model/index.ts";

/** Everything the service reads from its environment, checked once at start. */
export interface ServiceConfig {
  host: string;
  port: number;
  modelDir: string;
  precision: Precision;
  providers: ExecutionProvider[];
  graphOptimization: "disabled" | "basic" | "extended" | "all";
  intraOpThreads: number | undefined;
  /** Above 1, independent branches of a graph run in parallel on this many threads (ORT's parallel mode). */
  interOpThreads: number | undefined;
  /**
   * Whether ORT's idle intra-op threads spin waiting for work. Spinning saves microseconds per operator but burns
   * the cores the preprocessing threads share with inference on a CPU host, so it is off by default there.
   */
  spinIntraOpThreads: boolean;
  /**
   * Run the encoders on a thread of their own (on), so a batch never holds the event loop; off runs them on the
   * event-loop thread, as onnxruntime-node does by itself.
   */
  inferenceThread: boolean;
  /** Secrets accepted for request signatures (first signs nothing here; several allow rotation). */
  sharedSecrets: string[];
  /** Bearer tokens accepted instead of a signature (metrics scrapers, Hugging Face's gateway); empty by default. */
  bearerTokens: string[];
  image: ImageLimits;
  /** Batch shapes the service runs, and warms up before it is ready; batches are padded to the next one. */
  batchSizes: number[];
  maxWaitMs: number;
  /** Images that may wait to be batched before new requests get 503 + Retry-After (each holds its bytes). */
  maxQueue: number;
  /** The same for texts: a few hundred bytes each, and one classify request may bring a thousand. */
  maxTextQueue: number;
  /**
   * A request still unanswered this long after it arrived gets 503 `timeout`; a shorter `deadline_ms` from the edge
   * shortens it for that request.
   */
  requestTimeoutMs: number;
  /**
   * On SIGTERM, how long the requests already admitted may take to finish; those still unfinished then are answered
   * 503 `shutting_down` and the process exits anyway.
   */
  drainTimeoutMs: number;
  /** Worker threads that decode and resample images (0: the event-loop thread resamples). */
  preprocessThreads: number;
  /** Largest request body, checked before reading it. */
  maxBodyBytes: number;
  /**
   * Caption bank folder (manifest.json, embeddings.f16, texts.txt); undefined means `<MODEL_DIR>/captions` when it
   * exists, `false` turns captions off (CAPTION_BANK=off).
   */
  captionBankDir: string | false | undefined;
  /** Private-network addresses image URLs may reach (URL_FETCH_ALLOW); empty: public addresses only. */
  urlFetchAllow: AddressAllowList;
  /** Addresses image URLs may never reach, public ones included (URL_FETCH_DENY). */
  urlFetchDeny: AddressList;
  /** Image-URL look-ups that may run at once (URL_FETCH_LOOKUPS): fewer than libuv's threads (UV_THREADPOOL_SIZE). */
  urlFetchLookups: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const PROVIDERS: readonly ExecutionProvider[] = ["cuda", "tensorrt", "cpu", "coreml", "dml", "webgpu"];

/**
 * Reads the service configuration from environment variables (documented in gpu-service/README.md).
 *
 * @example readServiceConfig({ GPU_SHARED_SECRET: "…32+ chars…", MODEL_DIR: "models/tiny-clip" })
 */
export function readServiceConfig(env: Record<string, string | undefined>): ServiceConfig {
  const secrets = (env.GPU_SHARED_SECRET ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (secrets.length === 0)
    throw new ConfigError(
      "GPU_SHARED_SECRET is required (≥ 32 characters; comma-separate several to rotate)",
    );
  if (secrets.some((s) => s.length < 32))
    throw new ConfigError("GPU_SHARED_SECRET must be at least 32 characters");
  const providers = list(env.ORT_PROVIDERS ?? "cpu").map((p) => {
    if (!PROVIDERS.includes(p as ExecutionProvider))
      throw new ConfigError(`ORT_PROVIDERS: unknown provider "${p}" (known: ${PROVIDERS})`);
    return p as ExecutionProvider;
  });
  const precision = env.MODEL_PRECISION ?? "fp32";
  if (precision !== "fp32" && precision !== "fp16" && precision !== "quantized") {
    throw new ConfigError(`MODEL_PRECISION must be fp32, fp16 or quantized, got "${precision}"`);
  }
  const graphOptimization = env.ORT_GRAPH_OPTIMIZATION ?? "all";
  if (!["disabled", "basic", "extended", "all"].includes(graphOptimization)) {
    throw new ConfigError(
      `ORT_GRAPH_OPTIMIZATION must be disabled, basic, extended or all, got "${graphOptimization}"`,
    );
  }
  const batchSizes = list(env.BATCH_SIZES ?? "1,2,4,8,16,32,64").map((s) => integer("BATCH_SIZES", s, 1, 64));
  batchSizes.sort((a, b) => a - b);
  return {
    host: env.HOST ?? "127.0.0.1",
    port: integer("PORT", env.PORT ?? "8788", 0, 65535),
    modelDir: env.MODEL_DIR ?? "models/tiny-clip",
    precision,
    providers,
    graphOptimization: graphOptimization as ServiceConfig["graphOptimization"],
    intraOpThreads: env.ORT_INTRA_OP_THREADS
      ? integer("ORT_INTRA_OP_THREADS", env.ORT_INTRA_OP_THREADS, 1, 1024)
      : undefined,
    interOpThreads: env.ORT_INTER_OP_THREADS
      ? integer("ORT_INTER_OP_THREADS", env.ORT_INTER_OP_THREADS, 1, 1024)
      : undefined,
    spinIntraOpThreads: flag("ORT_SPIN", env.ORT_SPIN ?? (providers.some((p) => p !== "cpu") ? "on" : "off")),
    inferenceThread: flag("INFERENCE_THREAD", env.INFERENCE_THREAD ?? "on"),
    sharedSecrets: secrets,
    bearerTokens: list(env.GPU_BEARER_TOKENS ?? ""),
    image: {
      maxBytes: integer("MAX_IMAGE_BYTES", env.MAX_IMAGE_BYTES ?? String(10 * 1024 * 1024), 1, 2 ** 31),
      maxPixels: integer("MAX_IMAGE_PIXELS", env.MAX_IMAGE_PIXELS ?? "50000000", 1, 2 ** 31),
    },
    batchSizes: [...new Set(batchSizes)],
    maxWaitMs: integer("BATCH_MAX_WAIT_MS", env.BATCH_MAX_WAIT_MS ?? "5", 0, 120_000),
    maxQueue: integer("MAX_QUEUE", env.MAX_QUEUE ?? "512", 1, 1_000_000),
    maxTextQueue: integer("MAX_TEXT_QUEUE", env.MAX_TEXT_QUEUE ?? "8192", 1, 10_000_000),
    requestTimeoutMs: integer("REQUEST_TIMEOUT_MS", env.REQUEST_TIMEOUT_MS ?? "30000", 100, 600_000),
    drainTimeoutMs: integer("DRAIN_TIMEOUT_MS", env.DRAIN_TIMEOUT_MS ?? "30000", 0, 600_000),
    preprocessThreads: integer(
      "PREPROCESS_THREADS",
      env.PREPROCESS_THREADS ?? String(defaultPreprocessThreads()),
      0,
      256,
    ),
    maxBodyBytes: integer("MAX_BODY_BYTES", env.MAX_BODY_BYTES ?? String(96 * 1024 * 1024), 1024, 2 ** 31),
    captionBankDir: env.CAPTION_BANK === "off" ? false : env.CAPTION_BANK || undefined,
    urlFetchAllow: addressList("URL_FETCH_ALLOW", parseAllowList(env.URL_FETCH_ALLOW)),
    urlFetchDeny: addressList("URL_FETCH_DENY", parseAddressList(env.URL_FETCH_DENY)),
    urlFetchLookups: lookupSlots(env),
  };
}

/**
 * Look-ups run on libuv's thread pool, which file I/O and sharp's decoding share: by default half of it (at least 1),
 * and never all of it, so slow DNS can never take every thread.
 */
function lookupSlots(env: Record<string, string | undefined>): number {
  // libuv's own default and bounds for UV_THREADPOOL_SIZE.
  const threads = Math.min(Math.max(Number.parseInt(env.UV_THREADPOOL_SIZE ?? "", 10) || 4, 1), 1024);
  const most = Math.max(1, threads - 1);
  const fallback = String(Math.max(1, Math.floor(threads / 2)));
  const slots = integer("URL_FETCH_LOOKUPS", env.URL_FETCH_LOOKUPS ?? fallback, 1, 1024);
  if (slots > most)
    throw new ConfigError(
      `URL_FETCH_LOOKUPS must leave libuv a thread: at most ${most} with UV_THREADPOOL_SIZE=${threads}, got ${slots}`,
    );
  return slots;
}

// Off the event loop, resampling no longer serialises behind HTTP and inference: bench:gpu measured +35% images/s
// for concurrent single-image clients even on 2 cores. One core stays with the event loop on bigger machines.
function defaultPreprocessThreads(): number {
  return Math.min(Math.max(2, availableParallelism() - 1), 16);
}

function addressList(
  name: string,
  parsed: { ok: true; list: AddressList } | { ok: false; message: string },
): AddressList {
  if (!parsed.ok) throw new ConfigError(`${name}: ${parsed.message}`);
  return parsed.list;
}

function flag(name: string, value: string): boolean {
  if (value === "on" || value === "off") return value === "on";
  throw new ConfigError(`${name} must be on or off, got "${value}"`);
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function integer(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`${name} must be an integer in ${min}..${max}, got "${value}"`);
  return n;
}
