import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { frame, modelPresent, signedGet } from "../support/gpu-service.ts";
import { postInParts } from "../support/raw-http.ts";
import { waitFor } from "../support/wait.ts";

const IMAGE = readFileSync(new URL("../../examples/blue-stars.jpg", import.meta.url));

/** Requests the GPU service has answered, by its own Prometheus counter. */
async function answered(url: string): Promise<number> {
  const text = await (await signedGet(`${url}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith("clip_http_requests_total{") && line.includes('route="/v1/embed/'))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

/**
 * A rolling restart under a real edge: one of two GPU processes gets SIGTERM while it still has work. It finishes
 * that work and exits 0; every request the edge takes meanwhile lands on the other backend and succeeds.
 */
describe.skipIf(!modelPresent())("draining one of two GPU backends (real processes)", () => {
  let stack: EdgeStack;
  beforeAll(async () => {
    stack = await startEdgeStack({}, { gpuBackends: 2 });
  }, 180_000);
  afterAll(() => stack?.stop());

  it("answers every request with 200 from the other backend while one drains, and the drained one exits 0", async () => {
    const [draining, other] = stack.gpus as [EdgeStack["gpu"], EdgeStack["gpu"]];
    // Work the draining backend must finish: an upload still under way when SIGTERM arrives.
    const upload = await postInParts(
      `${draining.url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f32", images: [new Uint8Array(IMAGE)] }),
    );
    await waitFor(
      "the upload to be admitted",
      async () =>
        ((await (await fetch(`${draining.url}/readyz`)).json()) as { requestsInFlight: number })
          .requestsInFlight > 0,
      { timeoutMs: 60_000 },
    );
    draining.child.kill("SIGTERM");
    await draining.waitForOutput(/draining \d+ requests? in flight/);
    const before = await answered(other.url);
    const labels = (i: number) => [`blue star ${i} during the drain`, `red circle ${i} during the drain`];
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        fetch(`${stack.edgeUrl}/v1/classify`, {
          method: "POST",
          headers: { "content-type": "application/json", ...stack.apiHeaders },
          body: JSON.stringify({ images: [{ base64: IMAGE.toString("base64") }], labels: labels(i) }),
        }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(200));
    // Each classify made an image call and a text call, all of them on the other backend.
    expect((await answered(other.url)) - before).toBeGreaterThanOrEqual(24);
    expect(draining.child.exitCode, draining.output()).toBeNull(); // still draining: its upload is unfinished
    upload.sendRest();
    expect((await upload.response).status).toBe(200);
    expect(await draining.exited).toBe(0);
    expect(draining.output()).toMatch(/1 requests? finished, 0 cut by the drain timeout/);
  }, 120_000);
});
