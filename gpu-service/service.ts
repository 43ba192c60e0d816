import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { openCaptionFinder } from "./captions/index.ts";
import type { ServiceConfig } from "./config.ts";
import { ImageEmbedder } from "./embedders/image-embedder.ts";
import { TextEmbedder } from "./embedders/text-embedder.ts";
import { warmEncoders } from "./embedders/warm-up.ts";
import { createImageFetcher, type ImageFetcher, type ImageFetcherOptions } from "./fetch/index.ts";
import { createServiceApp } from "./http/app.ts";
import type { Lifecycle, ServiceDeps } from "./http/deps.ts";
import { createPreprocessPool } from "./image/pool.ts";
import { preprocessingVersion } from "./image/version.ts";
import { drainService } from "./lifecycle/drain.ts";
import { RequestGate } from "./lifecycle/request-gate.ts";
import { ServiceMetrics } from "./metrics.ts";
import { ClipModel, ThreadedClipModel } from "./model/index.ts";
import { loadClipTokenizer } from "./model/tokenizer-files.ts";

export interface RunningService {
  url: string;
  deps: ServiceDeps;
  /**
   * Drains: refuses new requests, finishes those already admitted (bounded by DRAIN_TIMEOUT_MS), closes the listener
   * and the connections, releases the model. `reason` names the cause in the log (e.g. the signal). Safe to call twice.
   */
  shutdown(reason?: string): Promise<void>;
}

/** What a caller may hand the service instead of what it builds itself. */
export interface StartOptions {
  /**
   * Fetches image URLs for `POST /v1/fetch-image`; by default one built from the configuration (URL_FETCH_*). A test
   * entry point injects one that resolves its own image host's name (test/support/gpu-test-main.ts).
   */
  imageFetcher?: ImageFetcher;
  /** Stops the start-up (SIGTERM before ready): what was loaded is released and the start rejects with StartCancelled. */
  signal?: AbortSignal;
  /** With INFERENCE_THREAD=on: the thread's script, a wrapper of the real one (a fault test's; ThreadedClipModelOptions). */
  inferenceThreadScript?: URL;
}

/**
 * What the configuration says about fetching image URLs (URL_FETCH_ALLOW, URL_FETCH_DENY, URL_FETCH_LOOKUPS), for a
 * caller that builds its own fetcher on top.
 *
 * @example createImageFetcher({ ...imageFetcherOptions(config), resolve })
 */
export function imageFetcherOptions(config: ServiceConfig): ImageFetcherOptions {
  return { allow: config.urlFetchAllow, deny: config.urlFetchDeny, lookupSlots: config.urlFetchLookups };
}

/** The start-up was stopped through StartOptions.signal before the service was ready; everything is released. */
export class StartCancelled extends Error {
  override name = "StartCancelled";
}

/**
 * Loads the model, starts listening (so `/healthz` answers during warm-up), warms every batch shape, then reports
 * ready on `/readyz`. When a stage fails or `options.signal` fires, what the earlier stages hold (model, pool,
 * caption search, listener) is released before the start rejects; a stage that runs cannot be interrupted, so the
 * signal is obeyed when it ends.
 *
 * @example const service = await startService(readServiceConfig(process.env)); console.log(service.url)
 */
export async function startService(
  config: ServiceConfig,
  log: (message: string) => void = console.log,
  options: StartOptions = {},
): Promise<RunningService> {
  const held: Held[] = [];
  try {
    return await startStages(config, log, options, held);
  } catch (error) {
    // Last acquired first: the listener and the caption search before the model they use.
    for (const { release } of held.reverse()) await release().catch(() => {});
    if (error instanceof StartCancelled)
      log(
        `gpu-service: start-up stopped before ready; released ${held.map((h) => h.what).join(", ") || "nothing"}`,
      );
    throw error;
  }
}

/** Something a start-up stage acquired, and how to let it go if a later stage fails or the start is stopped. */
interface Held {
  what: string;
  release: () => Promise<void>;
}

async function startStages(
  config: ServiceConfig,
  log: (message: string) => void,
  options: StartOptions,
  held: Held[],
): Promise<RunningService> {
  const { signal } = options;
  /** Ends the start-up between stages once the signal has fired. */
  const unlessCancelled = () => {
    if (signal?.aborted) throw new StartCancelled("the start-up was stopped before the service was ready");
  };
  unlessCancelled();
  const load = config.inferenceThread ? ThreadedClipModel.load : ClipModel.load;
  const model = await load(config.modelDir, {
    providers: config.providers,
    precision: config.precision,
    graphOptimization: config.graphOptimization,
    intraOpThreads: config.intraOpThreads,
    interOpThreads: config.interOpThreads,
    spinIntraOpThreads: config.spinIntraOpThreads,
    log,
    threadScript: options.inferenceThreadScript,
    // A replacement inference thread (after a crash) sees the shapes start-up warms below before it serves.
    rewarm: (encoders) => warmEncoders(encoders, config.batchSizes),
  });
  held.push({ what: "the model", release: () => model.release() });
  unlessCancelled();
  const tokenizer = await loadClipTokenizer(config.modelDir);
  unlessCancelled();
  const metrics = new ServiceMetrics();
  const maxBatchSize = Math.max(...config.batchSizes);
  const onGpu = model.providers.some((p) => p !== "cpu");
  const pool =
    config.preprocessThreads > 0 ? createPreprocessPool({ threads: config.preprocessThreads }) : undefined;
  if (pool) held.push({ what: "the preprocessing pool", release: () => pool.close() });
  const images = new ImageEmbedder(model, {
    pool,
    prepareConcurrency: Math.max(4, 2 * config.preprocessThreads),
    limits: config.image,
    maxBatchSize,
    maxWaitMs: config.maxWaitMs,
    maxQueue: config.maxQueue,
    // cuDNN picks kernels per input shape, so on a GPU batches are padded to the shapes warmed below; on the CPU a
    // new shape costs nothing and padding would only waste work.
    padToSizes: onGpu ? config.batchSizes : undefined,
    observer: metrics.observer("image"),
    onItemError: (code) => metrics.itemFailed("image", code),
  });
  const texts = new TextEmbedder(model, {
    vocabularySize: tokenizer.vocabularySize,
    maxBatchSize,
    maxWaitMs: config.maxWaitMs,
    maxQueue: config.maxTextQueue,
    observer: metrics.observer("text"),
    onItemError: (code) => metrics.itemFailed("text", code),
  });
  // A broken or mismatched caption bank stops the start-up here, before the service listens.
  const captions = await openCaptionFinder(config, model, log);
  if (captions) held.push({ what: "the caption search", release: () => captions.close() });
  unlessCancelled();
  const lifecycle: Lifecycle = { ready: false, requests: new RequestGate() };
  const deps: ServiceDeps = {
    config,
    model,
    tokenizer,
    images,
    texts,
    captions,
    metrics,
    lifecycle,
    preprocessingVersion: preprocessingVersion(model.folder.preprocess),
    imageFetcher: options.imageFetcher ?? createImageFetcher(imageFetcherOptions(config)),
  };
  const app = createServiceApp(deps, log);

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
  });
  held.push({
    what: "the listener",
    release: () =>
      new Promise<void>((resolve) => {
        (server as Server).closeAllConnections();
        server.close(() => resolve());
      }),
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host}:${port}`;
  log(
    `gpu-service: ${model.folder.id} (${model.folder.precision}) on [${model.providers}], listening on ${url}; warming up`,
  );
  if (config.urlFetchAllow.entries.length > 0)
    log(
      `gpu-service: image URLs may also reach ${config.urlFetchAllow.entries.join(", ")} (URL_FETCH_ALLOW)`,
    );
  if (config.urlFetchDeny.entries.length > 0)
    log(`gpu-service: image URLs may never reach ${config.urlFetchDeny.entries.join(", ")} (URL_FETCH_DENY)`);

  const warmStart = performance.now();
  await warmEncoders(model, config.batchSizes, signal);
  unlessCancelled();
  await captions?.warmUp(config.batchSizes, signal);
  unlessCancelled();
  lifecycle.ready = true;
  log(
    `gpu-service: ready after ${((performance.now() - warmStart) / 1000).toFixed(1)} s of warm-up (batch sizes ${config.batchSizes})`,
  );

  const queues = [
    { expedite: () => images.expedite(), close: () => images.drain() },
    { expedite: () => texts.expedite(), close: () => texts.drain() },
    ...(captions ? [{ expedite: () => captions.expedite(), close: () => captions.close() }] : []),
  ];
  let shuttingDown: Promise<void> | undefined;
  return {
    url,
    deps,
    shutdown: (reason = "shutdown") => {
      shuttingDown ??= drainService(
        {
          gate: lifecycle.requests,
          server: server as Server,
          queues,
          timeoutMs: config.drainTimeoutMs,
          release: async () => {
            await Promise.all([model.release(), pool?.close()]);
          },
          log,
        },
        reason,
      ).then(() => undefined);
      return shuttingDown;
    },
  };
}
