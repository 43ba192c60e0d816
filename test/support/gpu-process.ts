import { type ChildProcess, spawn } from "node:child_process";
import { TEST_MODEL_DIR, TEST_SECRET } from "./gpu-service.ts";
import type { TestImageHost } from "./image-host.ts";

export interface GpuProcess {
  url: string;
  child: ChildProcess;
  /** Its exit code (null when a signal killed it). */
  exited: Promise<number | null>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in its output, as soon as it appears; rejects if it exits first. */
  waitForOutput(pattern: RegExp): Promise<RegExpExecArray>;
  stop(): Promise<void>;
}

const main = new URL("../../gpu-service/main.ts", import.meta.url).pathname;
const testMain = new URL("./gpu-test-main.ts", import.meta.url).pathname;

export interface GpuProcessOptions {
  /**
   * An image host the process may fetch from by its name (test/support/image-host.ts): the process then runs the
   * test entry point (gpu-test-main.ts), which injects a fetcher resolving that name and trusting that host alone.
   */
  imageHost?: TestImageHost;
}

/**
 * Starts the GPU service as its own process on a free loopback port, resolving once it reports ready: production's
 * entry point (gpu-service/main.ts), or the test one when `options.imageHost` is given.
 */
export async function startGpuProcess(
  env: Record<string, string> = {},
  options: GpuProcessOptions = {},
): Promise<GpuProcess> {
  const { imageHost } = options;
  const imageHostEnv: Record<string, string> = imageHost
    ? {
        CLIP_TEST_IMAGE_HOST: `${imageHost.name}=${imageHost.address}`,
        CLIP_TEST_IMAGE_HOST_CA: imageHost.caFile,
      }
    : {};
  const child = spawn(process.execPath, [imageHost ? testMain : main], {
    env: {
      ...process.env,
      GPU_SHARED_SECRET: TEST_SECRET,
      MODEL_DIR: TEST_MODEL_DIR,
      PORT: "0",
      BATCH_SIZES: "1,4,16,64",
      ...imageHostEnv,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  // "close" rather than "exit": it comes after the last of the output.
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const waitForOutput = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (!match) return false;
        child.stdout?.off("data", check);
        child.stderr?.off("data", check);
        resolve(match);
        return true;
      };
      if (check()) return;
      child.stdout?.on("data", check);
      child.stderr?.on("data", check);
      void exited.then(() => {
        if (!check()) reject(new Error(`the GPU service exited without printing ${pattern}:\n${output}`));
      });
    });
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  // Collected before anyone checks, so every listener added later sees the output up to its chunk.
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const url = await Promise.race([
    waitForOutput(/listening on (http:\/\/[^;\s]+)[\s\S]*ready after/).then((match) => match[1] as string),
    exited.then((code) =>
      Promise.reject(new Error(`the GPU service exited (${code}) before it was ready:\n${output}`)),
    ),
  ]);
  return {
    url,
    child,
    exited,
    output: () => output,
    waitForOutput,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
