// The GPU service's entry point: `node gpu-service/main.ts` (configuration from the environment; see README.md).
import { ConfigError, readServiceConfig } from "./config.ts";
import { ModelFolderError } from "./model/index.ts";
import { startService } from "./service.ts";

const log = (message: string) => console.log(`${new Date().toISOString()} ${message}`);

try {
  const service = await startService(readServiceConfig(process.env), log);
  // The drain logs its own start and end (requests finished, cut by DRAIN_TIMEOUT_MS, how long it took).
  const stop = (signal: string) => {
    service.shutdown(signal).then(
      () => process.exit(0),
      (error: Error) => {
        log(`gpu-service: shutdown failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
} catch (error) {
  if (error instanceof ConfigError || error instanceof ModelFolderError) {
    console.error(`gpu-service: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
