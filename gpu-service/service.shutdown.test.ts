import { type ChildProcess, spawn } from "node:child_process";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import { startGpuProcess } from "../test/support/gpu-process.ts";
import { frame, modelPresent, signedPost, TEST_MODEL_DIR, TEST_SECRET } from "../test/support/gpu-service.ts";

const main = new URL("./main.ts", import.meta.url).pathname;

describe.skipIf(!modelPresent())("GPU service shutdown", () => {
  let running: ChildProcess | undefined;
  afterEach(() => {
    if (running?.exitCode === null) running.kill("SIGKILL");
  });

  it("on SIGTERM stops taking work, finishes what is queued, and exits 0", async () => {
    // A long batching wait keeps the first request queued when SIGTERM arrives; draining must flush it at once.
    const { child, url } = await startGpuProcess({ BATCH_MAX_WAIT_MS: "3000", BATCH_SIZES: "1,4" });
    running = child;
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const image = new Uint8Array(
      await sharp({ create: { width: 64, height: 64, channels: 3, background: "red" } })
        .png()
        .toBuffer(),
    );
    const queued = signedPost(
      `${url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f32", images: [image] }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    child.kill("SIGTERM");
    const response = await queued;
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(await exited).toBe(0);
  }, 120_000);

  it("exits with a clear message and code 2 on a bad configuration", async () => {
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, GPU_SHARED_SECRET: "short", MODEL_DIR: TEST_MODEL_DIR },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const code = await new Promise((resolve) => child.once("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/GPU_SHARED_SECRET must be at least 32 characters/);
  }, 60_000);

  it("names the file and the problem when the model folder is missing", async () => {
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, GPU_SHARED_SECRET: TEST_SECRET, MODEL_DIR: "/nonexistent/model" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    expect(await new Promise((resolve) => child.once("exit", resolve))).toBe(2);
    expect(stderr).toMatch(/\/nonexistent\/model: is not a model folder/);
  }, 60_000);
});
