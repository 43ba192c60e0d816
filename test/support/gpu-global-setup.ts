// Vitest global setup for the Worker tests: one real GPU service process (embedded model, CPU) for the whole run,
// its URL handed to the Worker's bindings through `inject("gpuUrl")`.
import type { TestProject } from "vitest/node";
import { loadClipTokenizer } from "../../gpu-service/model/tokenizer-files.ts";
import { startGpuProcess } from "./gpu-process.ts";
import { frame, modelPresent, signedPost, TEST_MODEL_DIR, TEST_SECRET } from "./gpu-service.ts";
import { startImageHost } from "./image-host.ts";
import { renderTestShapes } from "./shapes.ts";

const HF_TOKEN = "hf_test_0123456789abcdefghijklmnop";

/**
 * Real work through the GPU service before the first test: its own warm-up runs every batch shape on zeros, but the
 * first real images also start the decoder threads and the first long text batch grows its buffers — seconds on a
 * busy machine that would otherwise be charged to whichever test happens to run first.
 */
const shapeWords = ["red circles", "blue stars", "green squares", "yellow triangles"];

async function warmUp(url: string, shapes: { base64: string }[]): Promise<void> {
  const images = shapes.slice(0, 8).map((s) => new Uint8Array(Buffer.from(s.base64, "base64")));
  const tokenizer = await loadClipTokenizer(TEST_MODEL_DIR);
  const texts = Array.from({ length: 256 }, (_, i) =>
    tokenizer.encode(`a photo of ${i % 7} ${shapeWords[i % 4]}`),
  );
  const answers = await Promise.all([
    signedPost(`${url}/v1/embed/images`, frame({ kind: "images", dtype: "f32", images })),
    signedPost(`${url}/v1/embed/texts`, frame({ kind: "texts", dtype: "f16", texts })),
  ]);
  for (const answer of answers) {
    await answer.arrayBuffer();
    if (!answer.ok) throw new Error(`warming the GPU service failed: ${answer.status}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide("gpuSecret", TEST_SECRET);
  project.provide("hfToken", HF_TOKEN);
  const shapes = await renderTestShapes();
  project.provide("shapes", shapes);
  const red = shapes.find((s) => s.label === "red circle") as (typeof shapes)[number];
  const imageHost = await startImageHost(Buffer.from(red.base64, "base64"));
  project.provide("imageHost", imageHost.url());
  project.provide("imageHostControl", imageHost.controlUrl);
  if (!modelPresent()) {
    // Without the model only the tests that need no GPU run; a closed port makes the rest fail loudly, not hang.
    project.provide("gpuUrl", "http://127.0.0.1:9");
    return () => imageHost.close();
  }
  // The image host is reached by name through the test entry point's injected fetcher; no allow list is involved.
  const gpu = await startGpuProcess({ GPU_BEARER_TOKENS: HF_TOKEN }, { imageHost });
  await warmUp(gpu.url, shapes);
  project.provide("gpuUrl", gpu.url);
  return async () => {
    await gpu.stop();
    await imageHost.close();
  };
}
