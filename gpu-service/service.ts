import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { loadClipTokenizer } from "../src/tokenizer/index.ts";
import { openCaptionFinder } from "./captions/index.ts";
import type { ServiceConfig } from "./config.ts";
import { ImageEmbedder } from "./embedders/image-embedder.ts";
import { TextEmbedder } from "./embedders/text-embedder.ts";
import { createServiceApp } from "./http/app.ts";
import type { Lifecycle, ServiceDeps } from "./http/deps.ts";
import { createPreprocessPool } from "./image/pool.ts";
import { preprocessingVersion } from "./image/version.ts";
import { drainService } from "./lifecycle/drain.ts";
import { RequestGate } from "./lifecycle/request-gate.ts";
import { ServiceMetrics } from "./metrics.ts";
import { ClipModel } from "./model/index.ts";

export interface RunningService {
  url: string;
  deps: ServiceDeps;
  /**
   * Drains: refuses new requests, finishes those already admitted (bounded by DRAIN_TIMEOUT_MS), closes the listener
   * and the connections, releases the model. `reason` names the cause in the log (e.g. the signal). Safe to call twice.
   */
  shutdown(reason?: string): Promise<void>;
}

/**
 * Loads the model, starts listening (so `/healthz` answers during warm-up), warms every batch shape, then reports
 * ready on `/readyz`.
 *
 * @example const service = await startService(readServiceConfig(process.env)); console.log(service.url)
 */
export async function startService(
  config: ServiceConfig,
  log: (message: string) => void = console.log,
): Promise<RunningService> {
  const model = await ClipModel.load(config.modelDir, {
    providers: config.providers,
    precision: config.precision,
    graphOptimization: config.graphOptimization,
    intraOpThreads: config.intraOpThreads,
    log,
  });
  const tokenizer = await loadClipTokenizer(config.modelDir);
  const metrics = new ServiceMetrics();
  const maxBatchSize = Math.max(...config.batchSizes);
  const onGpu = model.providers.some((p) => p !== "cpu");
  const pool =
    config.preprocessThreads > 0 ? createPreprocessPool({ threads: config.preprocessThreads }) : undefined;
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
  const captions = await openCaptionFinder(config, model, log).catch(async (error: unknown) => {
    await model.release();
    throw error;
  });
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
  };
  const app = createServiceApp(deps, log);

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.host, port: config.port }, () => resolve(s));
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

  const warmStart = performance.now();
  await images.warmUp(config.batchSizes);
  await texts.warmUp(config.batchSizes);
  await captions?.warmUp(config.batchSizes);
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
