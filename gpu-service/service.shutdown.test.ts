import { spawn } from "node:child_process";
import { Agent } from "node:http";
import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import type { GpuCaptionsReply } from "../src/protocol/index.ts";
import { decodeResponse, embeddingToFloat32 } from "../src/protocol/index.ts";
import { dot } from "../src/vector/index.ts";
import { type GpuProcess, startGpuProcess } from "../test/support/gpu-process.ts";
import { frame, modelPresent, signedPost, TEST_MODEL_DIR, TEST_SECRET } from "../test/support/gpu-service.ts";
import { getOver, postInParts, postWhole, type RawResponse } from "../test/support/raw-http.ts";
import { waitFor } from "../test/support/wait.ts";
import { loadClipTokenizer } from "./model/tokenizer-files.ts";

const main = new URL("./main.ts", import.meta.url).pathname;

const png = async (r: number, g: number, b: number) =>
  new Uint8Array(
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r, g, b } } })
      .png()
      .toBuffer(),
  );

interface Readiness {
  status: string;
  code?: string;
  requestsInFlight?: number;
  queues?: { images: { queueDepth: number }; texts: { queueDepth: number } };
}

/** Polls /readyz until `done` holds for it: the service's own view of what has arrived and what waits. */
function waitForReadiness(url: string, what: string, done: (r: Readiness) => boolean): Promise<Readiness> {
  return waitFor(
    what,
    async () => {
      const readiness = (await (await fetch(`${url}/readyz`)).json()) as Readiness;
      return done(readiness) && readiness;
    },
    { timeoutMs: 60_000, intervalMs: 20 },
  );
}

/** The answer's embeddings, checked to be `count` unit vectors. */
function expectUnitEmbeddings(body: Uint8Array, count: number): void {
  const decoded = decodeResponse(body);
  if (!decoded.ok) throw new Error(decoded.message);
  expect(decoded.value.items).toHaveLength(count);
  for (const item of decoded.value.items) {
    if (item.status !== "ok") throw new Error(`item failed: ${item.status}`);
    const v = embeddingToFloat32(item.embedding);
    expect(v.length).toBe(decoded.value.dim);
    expect(dot(v, v)).toBeCloseTo(1, 4);
  }
}

const problemCode = (response: RawResponse) =>
  (JSON.parse(response.body.toString()) as { code: string }).code;

describe.skipIf(!modelPresent())("GPU service shutdown", () => {
  let running: GpuProcess | undefined;
  afterEach(() => {
    if (running?.child.exitCode === null) running.child.kill("SIGKILL");
    running = undefined;
  });

  it.each(["SIGTERM", "SIGINT"] as const)(
    "on %s sends queued work at once instead of waiting for company, and exits 0",
    async (signal) => {
      // The batch would wait 2 minutes for company, twice the request's own timeout: only the drain's flush can
      // answer 200, and a slow machine has a minute to get the request queued and the signal sent.
      running = await startGpuProcess({
        BATCH_MAX_WAIT_MS: "120000",
        REQUEST_TIMEOUT_MS: "60000",
        BATCH_SIZES: "1,4",
      });
      const { url, child } = running;
      const queued = signedPost(
        `${url}/v1/embed/images`,
        frame({ kind: "images", dtype: "f32", images: [await png(255, 0, 0)] }),
      );
      await waitForReadiness(url, "the image to be queued", (r) => r.queues?.images.queueDepth === 1);
      child.kill(signal);
      const response = await queued;
      expect(response.status).toBe(200);
      expectUnitEmbeddings(new Uint8Array(await response.arrayBuffer()), 1);
      expect(await running.exited).toBe(0);
      expect(running.output()).toMatch(new RegExp(`${signal}: draining 1 requests in flight`));
      expect(running.output()).toMatch(/1 requests finished, 0 cut by the drain timeout; exiting/);
    },
    120_000,
  );

  it("finishes all 16 requests in flight at SIGTERM — mid-body ones too — refuses later ones, exits 0", async () => {
    // Nothing leaves a batch, times out or is cut by the drain within 2 minutes but through the drain's own flush.
    running = await startGpuProcess({
      BATCH_MAX_WAIT_MS: "120000",
      REQUEST_TIMEOUT_MS: "120000",
      DRAIN_TIMEOUT_MS: "120000",
      BATCH_SIZES: "1,4,64",
    });
    const { url, child } = running;
    const tokenizer = await loadClipTokenizer(TEST_MODEL_DIR);
    const images = await Promise.all(Array.from({ length: 12 }, (_, i) => png(i * 20, 255 - i * 20, 90)));
    const imageFrame = (i: number) =>
      frame({ kind: "images", dtype: "f32", images: [images[i] as Uint8Array] });
    const textFrame = (i: number) =>
      frame({ kind: "texts", dtype: "f32", texts: [tokenizer.encode(`a photo of ${i} red circles`)] });
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      // Three stay mid-body across SIGTERM: their headers have arrived, their items cannot have been submitted.
      const uploads = [
        await postInParts(`${url}/v1/embed/images`, imageFrame(0)),
        await postInParts(`${url}/v1/embed/texts`, textFrame(0)),
        await postInParts(`${url}/v1/captions?top_k=2`, imageFrame(1)),
      ];
      // Thirteen wait in the batchers behind the batching wait, one of them over a keep-alive connection. The
      // queued caption request has yet to submit its search to the caption batcher when the drain begins.
      const overKeptConnection = postWhole(`${url}/v1/embed/images`, imageFrame(2), keepAlive);
      const queuedImages = Array.from({ length: 8 }, (_, i) =>
        signedPost(`${url}/v1/embed/images`, imageFrame(3 + i)),
      );
      const queuedTexts = [1, 2, 3].map((i) => signedPost(`${url}/v1/embed/texts`, textFrame(i)));
      const queuedCaptions = signedPost(`${url}/v1/captions?top_k=3`, imageFrame(11));
      await waitForReadiness(
        url,
        "16 requests in flight, 10 images and 3 texts queued",
        (r) =>
          r.requestsInFlight === 16 && r.queues?.images.queueDepth === 10 && r.queues.texts.queueDepth === 3,
      );

      child.kill("SIGTERM");
      await running.waitForOutput(/SIGTERM: draining 16 requests in flight/);

      // The kept connection was busy at SIGTERM, so it stays open: what comes over it now is refused, and told to close.
      const kept = await overKeptConnection;
      expect(kept.status).toBe(200);
      expectUnitEmbeddings(new Uint8Array(kept.body), 1);
      const readiness = await getOver(`${url}/readyz`, keepAlive);
      expect(readiness.reusedSocket).toBe(true);
      expect([readiness.status, problemCode(readiness)]).toEqual([503, "shutting_down"]);
      const late = await postWhole(`${url}/v1/embed/images`, imageFrame(0), keepAlive);
      expect(late.reusedSocket).toBe(true);
      expect([late.status, problemCode(late)]).toEqual([503, "shutting_down"]);
      expect(Number(late.headers["retry-after"])).toBeGreaterThanOrEqual(1);
      expect(late.headers.connection).toBe("close");

      // The drain still waits for the uploads; they finish now.
      for (const upload of uploads) upload.sendRest();
      const [uploadedImage, uploadedText, uploadedCaptions] = await Promise.all(
        uploads.map((u) => u.response),
      );
      for (const answer of [uploadedImage, uploadedText, uploadedCaptions]) expect(answer?.status).toBe(200);
      expectUnitEmbeddings(new Uint8Array(uploadedImage?.body ?? []), 1);
      expectUnitEmbeddings(new Uint8Array(uploadedText?.body ?? []), 1);
      const captioned = JSON.parse(uploadedCaptions?.body.toString() ?? "") as GpuCaptionsReply;
      expect(captioned.results.map((r) => (r.status === "ok" ? r.captions.length : r.status))).toEqual([2]);

      for (const response of await Promise.all([...queuedImages, ...queuedTexts])) {
        expect(response.status).toBe(200);
        expectUnitEmbeddings(new Uint8Array(await response.arrayBuffer()), 1);
      }
      const captions = await queuedCaptions;
      expect(captions.status).toBe(200);
      const queuedCaptioned = (await captions.json()) as GpuCaptionsReply;
      expect(queuedCaptioned.results.map((r) => (r.status === "ok" ? r.captions.length : r.status))).toEqual([
        3,
      ]);

      expect(await running.exited).toBe(0);
      expect(running.output()).toMatch(/drained in \d+ ms: 16 requests finished, 0 cut by the drain timeout/);
    } finally {
      keepAlive.destroy();
    }
  }, 180_000);

  it("answers a request still mid-body when the drain timeout passes, and exits 0 anyway", async () => {
    running = await startGpuProcess({ DRAIN_TIMEOUT_MS: "200", BATCH_SIZES: "1,4" });
    const { url, child } = running;
    const body = frame({ kind: "images", dtype: "f32", images: [await png(0, 0, 255)] });
    const stuck = await postInParts(`${url}/v1/embed/images`, body); // the second half never comes
    await waitForReadiness(url, "the upload to be admitted", (r) => r.requestsInFlight === 1);
    child.kill("SIGTERM");
    const outcome = await stuck.response.then(
      (response) => `${response.status} ${problemCode(response)}`,
      () => "connection closed",
    );
    expect(["503 shutting_down", "connection closed"]).toContain(outcome);
    expect(await running.exited).toBe(0);
    expect(running.output()).toMatch(/0 requests finished, 1 cut by the drain timeout/);
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
