import { type ChildProcess, spawn } from "node:child_process";
import { TEST_MODEL_DIR, TEST_SECRET } from "./gpu-service.ts";

export interface GpuProcess {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const main = new URL("../../gpu-service/main.ts", import.meta.url).pathname;

/** Starts the GPU service as its own process on a free loopback port, resolving once it reports ready. */
export async function startGpuProcess(env: Record<string, string> = {}): Promise<GpuProcess> {
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      GPU_SHARED_SECRET: TEST_SECRET,
      MODEL_DIR: TEST_MODEL_DIR,
      PORT: "0",
      BATCH_SIZES: "1,4,16,64",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const listening = /listening on (http:\/\/[^;\s]+)/.exec(output);
      if (listening && output.includes("ready after")) resolve(listening[1] as string);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`the GPU service exited (${code}) before it was ready:\n${output}`)),
    );
  });
  return {
    url,
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}
