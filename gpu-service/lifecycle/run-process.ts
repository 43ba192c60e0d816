import { ConfigError, readServiceConfig, type ServiceConfig } from "../config.ts";
import type { ImageFetcher } from "../fetch/index.ts";
import { ModelFolderError } from "../model/index.ts";
import { type RunningService, StartCancelled, startService } from "../service.ts";
import type { StopSignals } from "./stop-signals.ts";

export interface RunProcessOptions {
  /** Builds the image fetcher instead of the one URL_FETCH_* describe (a test entry point's; never from the env). */
  imageFetcher?: (config: ServiceConfig) => ImageFetcher;
}

/**
 * The GPU service as a process: configuration from `env` (exit 2 with one line when it is wrong), start-up, and the
 * stop signals from `stops`. Before ready, a signal stops the start-up at the end of the stage that runs (a model
 * load cannot be interrupted), releases what was loaded and exits 0 — or exits 0 anyway once DRAIN_TIMEOUT_MS has
 * passed. Once ready, it drains (service.shutdown) and exits 0.
 *
 * @example const stops = watchStopSignals(); await runServiceProcess(process.env, stops);
 */
export async function runServiceProcess(
  env: Record<string, string | undefined>,
  stops: StopSignals,
  options: RunProcessOptions = {},
): Promise<void> {
  const log = (message: string) => console.log(`${new Date().toISOString()} ${message}`);
  let config: ServiceConfig;
  try {
    config = readServiceConfig(env);
  } catch (error) {
    return exitOnKnownError(error);
  }
  let service: RunningService | undefined;
  stops.onStop(function onStop(signal) {
    if (service) return drainAndExit(service, signal, log);
    log(`gpu-service: ${signal} before ready: stopping the start-up once its current stage ends`);
    // Nothing was admitted yet, so nothing is owed to anyone: a stage that will not end is not waited for long.
    setTimeout(() => {
      log(`gpu-service: the start-up did not stop within ${config.drainTimeoutMs} ms; exiting`);
      process.exit(0);
    }, config.drainTimeoutMs).unref();
  });
  // Printed once the stop signals are the service's to handle (a test waits for it before signalling).
  log(`gpu-service: starting (pid ${process.pid}), loading ${config.modelDir}`);
  try {
    service = await startService(config, log, {
      signal: stops.signal,
      imageFetcher: options.imageFetcher?.(config),
    });
  } catch (error) {
    if (error instanceof StartCancelled) {
      log("gpu-service: exiting");
      process.exit(0);
    }
    return exitOnKnownError(error);
  }
}

function drainAndExit(service: RunningService, signal: NodeJS.Signals, log: (message: string) => void): void {
  // The drain logs its own start and end (requests finished, cut by DRAIN_TIMEOUT_MS, how long it took).
  service.shutdown(signal).then(
    () => process.exit(0),
    (error: Error) => {
      log(`gpu-service: shutdown failed: ${error.message}`);
      process.exit(1);
    },
  );
}

function exitOnKnownError(error: unknown): never {
  if (error instanceof ConfigError || error instanceof ModelFolderError) {
    console.error(`gpu-service: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
