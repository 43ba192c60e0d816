import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type EdgeStack, startEdgeStack } from "../support/edge-stack.ts";
import { startGpuProcess } from "../support/gpu-process.ts";
import { modelPresent } from "../support/gpu-service.ts";
import { waitFor } from "../support/wait.ts";

/**
 * The GPU tier failing under a real edge (the Worker in workerd) and a real GPU process: killed and restarted,
 * paused (SIGSTOP), and a call failing while its sibling is still running. After every fault the edge must answer
 * clearly and retryably, and recover fully: no circuit stuck half-open, no call counted in flight for good.
 */
const IMAGE = readFileSync(new URL("../../examples/red-circle.jpg", import.meta.url)).toString("base64");
const COOLDOWN_MS = 1000;
let fresh = 0;
const newLabels = () => [`red circle ${++fresh}`, `blue star ${fresh}`];

interface Health {
  gpu_backends: { circuit: string; outstanding: number }[];
}

async function classify(stack: EdgeStack, labels = newLabels(), init: RequestInit = {}): Promise<Response> {
  return fetch(`${stack.edgeUrl}/v1/classify`, {
    method: "POST",
    headers: { "content-type": "application/json", ...stack.apiHeaders },
    body: JSON.stringify({ images: [{ base64: IMAGE }], labels, templates: ["a photo of a {}."] }),
    ...init,
  });
}

async function health(stack: EdgeStack): Promise<Health["gpu_backends"][number]> {
  const body = (await (await fetch(`${stack.edgeUrl}/healthz`)).json()) as Health;
  return body.gpu_backends[0] as Health["gpu_backends"][number];
}

const gpuPort = (stack: EdgeStack) => new URL(stack.gpu.url).port;

async function killGpu(stack: EdgeStack): Promise<void> {
  const exited = new Promise((resolve) => stack.gpu.child.once("exit", resolve));
  stack.gpu.child.kill("SIGKILL");
  await exited;
}

describe.skipIf(!modelPresent())("the edge through GPU faults (real processes)", () => {
  let stack: EdgeStack;
  beforeAll(async () => {
    // A short deadline for the paused-process case; generous enough that a busy machine never trips it otherwise.
    stack = await startEdgeStack({
      GPU_CIRCUIT_COOLDOWN_MS: String(COOLDOWN_MS),
      REQUEST_DEADLINE_MS: "15000",
    });
  }, 180_000);
  afterAll(() => stack?.stop());

  it("recovers at once after the GPU service is killed and restarted, three times in a row", async () => {
    const warm = await classify(stack);
    expect(warm.status, await warm.clone().text()).toBe(200);
    expect(await health(stack)).toEqual({ backend: 0, circuit: "closed", outstanding: 0 });
    for (let round = 1; round <= 3; round++) {
      await killGpu(stack);
      for (let i = 0; i < 4; i++) {
        const refused = await classify(stack);
        expect(refused.status).toBe(503);
        expect(refused.headers.get("content-type")).toBe("application/problem+json");
        expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
        expect(((await refused.json()) as { code: string }).code).toBe("gpu_unavailable");
      }
      const opened = Date.now(); // the circuit opened before this, at the latest
      expect((await health(stack)).circuit).toBe("open");
      stack.gpu = await startGpuProcess({ PORT: gpuPort(stack) });
      // Past the cooldown (waiting longer is harmless), exactly one request — labels never seen, so a text and an
      // image call at once — must succeed: one call probes the recovering backend, its sibling waits for the verdict.
      await new Promise((r) => setTimeout(r, Math.max(0, opened + COOLDOWN_MS + 250 - Date.now())));
      const restartedAt = Date.now();
      const first = await classify(stack);
      expect(first.status, await first.clone().text()).toBe(200);
      console.log(
        `GPU kill ${round}: the first request after the restart and cooldown answered 200 in ${Date.now() - restartedAt} ms`,
      );
      expect(await health(stack)).toEqual({ backend: 0, circuit: "closed", outstanding: 0 });
    }
  }, 240_000);

  it("an explanation's 17 passes fail as one clear 503 while the tier is down, bill nothing, and work once it is back", async () => {
    const explain = () =>
      fetch(`${stack.edgeUrl}/v1/explain`, {
        method: "POST",
        headers: { "content-type": "application/json", ...stack.apiHeaders },
        body: JSON.stringify({ image: { base64: IMAGE }, labels: newLabels(), grid: 4 }),
      });
    const imagesBilled = async () => {
      const usage = await fetch(`${stack.edgeUrl}/v1/usage`, { headers: stack.apiHeaders });
      return ((await usage.json()) as { totals: { images: number } }).totals.images;
    };
    const before = await imagesBilled();
    await killGpu(stack);
    for (let i = 0; i < 2; i++) {
      const refused = await explain();
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { code: string }).code).toBe("gpu_unavailable");
    }
    expect(await imagesBilled()).toBe(before);
    stack.gpu = await startGpuProcess({ PORT: gpuPort(stack) });
    let answer: Response | undefined;
    await waitFor(
      "an explanation to succeed after the restart",
      async () => {
        answer = await explain();
        return answer.status === 200;
      },
      { timeoutMs: 30_000 },
    );
    expect(((await (answer as Response).json()) as { usage: { images: number } }).usage.images).toBe(17);
    await waitFor(
      "the explanation's 17 passes, and only they, to be billed",
      async () => (await imagesBilled()) === before + 17,
    );
    expect(await health(stack)).toEqual({ backend: 0, circuit: "closed", outstanding: 0 });
  }, 120_000);

  it("answers 504 with Retry-After within the deadline when the GPU process is paused, and recovers after SIGCONT", async () => {
    stack.gpu.child.kill("SIGSTOP");
    try {
      const slow = await classify(stack);
      expect(slow.status).toBe(504);
      expect(((await slow.json()) as { code: string }).code).toBe("upstream_timeout");
      expect(Number(slow.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      // The timed-out calls release their places (a shared text computation's own attempt may end a moment later).
      await waitFor("nothing to be counted in flight", async () => (await health(stack)).outstanding === 0);
    } finally {
      stack.gpu.child.kill("SIGCONT");
    }
    await waitFor("a classify to succeed after SIGCONT", async () => (await classify(stack)).status === 200, {
      timeoutMs: 30_000,
    });
    expect(await health(stack)).toEqual({ backend: 0, circuit: "closed", outstanding: 0 });
  }, 120_000);

  it("a client that disconnects does not fail the others sharing its text computation", async () => {
    const labels = newLabels();
    stack.gpu.child.kill("SIGSTOP"); // holds the shared computation long enough for both to join it
    try {
      const leaving = new AbortController();
      const first = classify(stack, labels, { signal: leaving.signal }).catch((error: Error) => error);
      // Its text and image calls are in flight; the second request's image call joins them, its texts join the first's.
      await waitFor("the first request's calls", async () => (await health(stack)).outstanding >= 2, {
        timeoutMs: 30_000,
      });
      const second = classify(stack, labels);
      await waitFor("the second request's image call", async () => (await health(stack)).outstanding >= 3, {
        timeoutMs: 30_000,
      });
      leaving.abort();
      expect(await first).toBeInstanceOf(Error);
      stack.gpu.child.kill("SIGCONT");
      const answer = await second;
      expect(answer.status).toBe(200);
      const body = (await answer.json()) as { usage: { texts_computed: number } };
      expect(body.usage.texts_computed).toBe(2);
    } finally {
      stack.gpu.child.kill("SIGCONT");
    }
    // Both labels were computed once, for the two requests together, and cached for the next one.
    const third = (await (await classify(stack, labels)).json()) as { usage: { texts_cached: number } };
    expect(third.usage.texts_cached).toBe(2);
    await waitFor("every call to settle", async () => (await health(stack)).outstanding === 0, {
      timeoutMs: 30_000,
    });
  }, 120_000);

  it("a paused backend's timeouts open its circuit: then requests get 503 at once instead of waiting", async () => {
    stack.gpu.child.kill("SIGSTOP");
    try {
      // Three at once, so three attempts time out together (one after another would take three deadlines).
      const late = await Promise.all([classify(stack), classify(stack), classify(stack)]);
      expect(late.map((r) => r.status)).toEqual([504, 504, 504]);
      expect((await health(stack)).circuit).toBe("open");
      const refused = await classify(stack);
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { code: string }).code).toBe("gpu_unavailable");
    } finally {
      stack.gpu.child.kill("SIGCONT");
    }
    await waitFor("the backend to recover", async () => (await classify(stack)).status === 200, {
      timeoutMs: 60_000,
    });
    expect(await health(stack)).toEqual({ backend: 0, circuit: "closed", outstanding: 0 });
  }, 180_000);
});

describe.skipIf(!modelPresent())("a GPU call failing while its sibling still runs (real processes)", () => {
  let stack: EdgeStack;
  beforeAll(async () => {
    // A text queue of one makes a new-label request's text call fail at once (503 overloaded), while its image
    // call waits ~2 s for batch company: the route must answer and leave no call counted in flight.
    stack = await startEdgeStack({ GPU_CIRCUIT_COOLDOWN_MS: "1000" });
    await stack.gpu.stop();
    stack.gpu = await startGpuProcess({
      PORT: new URL(stack.gpu.url).port,
      MAX_TEXT_QUEUE: "1",
      BATCH_MAX_WAIT_MS: "2000",
    });
  }, 180_000);
  afterAll(() => stack?.stop());

  it("answers 503 and settles the sibling: nothing stays in flight, the circuit is not wedged", async () => {
    const refused = await classify(stack, ["one", "two", "three", "four"]);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await health(stack)).outstanding).toBe(0);
    // After the backend's own Retry-After, work it can serve (an image alone; its text queue stays tiny) goes through.
    const embedImage = () =>
      fetch(`${stack.edgeUrl}/v1/embeddings`, {
        method: "POST",
        headers: { "content-type": "application/json", ...stack.apiHeaders },
        body: JSON.stringify({ input: [{ image: { base64: IMAGE } }] }),
      });
    await waitFor("an image embedding to succeed", async () => (await embedImage()).status === 200, {
      timeoutMs: 60_000,
    });
    expect(await health(stack)).toEqual({ backend: 0, circuit: "closed", outstanding: 0 });
  }, 120_000);
});
