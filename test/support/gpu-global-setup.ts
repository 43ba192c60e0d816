// Vitest global setup for the Worker tests: one real GPU service process (embedded model, CPU) for the whole run,
// its URL handed to the Worker's bindings through `inject("gpuUrl")`.
import type { TestProject } from "vitest/node";
import { startGpuProcess } from "./gpu-process.ts";
import { modelPresent, TEST_SECRET } from "./gpu-service.ts";
import { renderTestShapes } from "./shapes.ts";

const HF_TOKEN = "hf_test_0123456789abcdefghijklmnop";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide("gpuSecret", TEST_SECRET);
  project.provide("hfToken", HF_TOKEN);
  project.provide("shapes", await renderTestShapes());
  if (!modelPresent()) {
    // Without the model only the tests that need no GPU run; a closed port makes the rest fail loudly, not hang.
    project.provide("gpuUrl", "http://127.0.0.1:9");
    return async () => {};
  }
  const gpu = await startGpuProcess({ GPU_BEARER_TOKENS: HF_TOKEN });
  project.provide("gpuUrl", gpu.url);
  return () => gpu.stop();
}
