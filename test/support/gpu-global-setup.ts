// Vitest global setup for the Worker tests: one real GPU service process (embedded model, CPU) for the whole run,
// its URL handed to the Worker's bindings through `inject("gpuUrl")`.
import type { TestProject } from "vitest/node";
import { startGpuProcess } from "./gpu-process.ts";
import { modelPresent, TEST_SECRET } from "./gpu-service.ts";
import { startImageHost } from "./image-host.ts";
import { renderTestShapes } from "./shapes.ts";

const HF_TOKEN = "hf_test_0123456789abcdefghijklmnop";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide("gpuSecret", TEST_SECRET);
  project.provide("hfToken", HF_TOKEN);
  const shapes = await renderTestShapes();
  project.provide("shapes", shapes);
  const red = shapes.find((s) => s.label === "red circle") as (typeof shapes)[number];
  const imageHost = await startImageHost(Buffer.from(red.base64, "base64"));
  project.provide("imageHost", imageHost.server.url("").replace(/\/$/, ""));
  project.provide("imageHostControl", imageHost.controlUrl);
  if (!modelPresent()) {
    // Without the model only the tests that need no GPU run; a closed port makes the rest fail loudly, not hang.
    project.provide("gpuUrl", "http://127.0.0.1:9");
    return () => imageHost.close();
  }
  const gpu = await startGpuProcess({ GPU_BEARER_TOKENS: HF_TOKEN, ...imageHost.gpuEnv });
  project.provide("gpuUrl", gpu.url);
  return async () => {
    await gpu.stop();
    await imageHost.close();
  };
}
