import sharp from "sharp";
import { afterEach, describe, expect, it } from "vitest";
import {
  frame,
  modelPresent,
  signedGet,
  signedPost,
  startTestService,
  TEST_MODEL_DIR,
} from "../test/support/gpu-service.ts";
import { waitFor } from "../test/support/wait.ts";
import { loadClipTokenizer } from "./model/tokenizer-files.ts";
import type { RunningService } from "./service.ts";

const png = async (r: number) =>
  new Uint8Array(
    await sharp({ create: { width: 48, height: 48, channels: 3, background: { r, g: 40, b: 90 } } })
      .png()
      .toBuffer(),
  );
const imagesFrame = async (count: number) =>
  frame({
    kind: "images",
    dtype: "f32",
    images: await Promise.all(Array.from({ length: count }, (_, i) => png(i * 9))),
  });
const problemOf = async (response: Response) => (await response.json()) as { code: string; detail: string };

/** Waits until the service's own image queue holds `depth` items (the batcher's view, not a guess from time). */
async function waitForImageQueue(service: RunningService, depth: number): Promise<void> {
  await waitFor(`${depth} images in the queue`, () => service.deps.images.stats().queueDepth === depth, {
    timeoutMs: 60_000,
    intervalMs: 10,
  });
}

// Batches leave only when full: a partial one would wait 2 minutes for company, and nothing unanswered times out in
// that time either, so the backlogs below stay exactly where the test puts them however slowly it gets there.
const HELD = { BATCH_MAX_WAIT_MS: "120000", REQUEST_TIMEOUT_MS: "120000" };

describe.skipIf(!modelPresent())("GPU service: deadlines and load shedding", () => {
  let service: RunningService | undefined;
  afterEach(async () => {
    await service?.shutdown();
    service = undefined;
  });

  it("refuses at once with 503 shed a request the backlog would make late, and takes it with time to spare", async () => {
    service = await startTestService({ ...HELD, BATCH_SIZES: "1,16" });
    const { url } = service;
    const embed = (body: Uint8Array, query = "") => signedPost(`${url}/v1/embed/images${query}`, body);

    // History: one full batch, so the batcher knows its throughput.
    expect((await embed(await imagesFrame(16))).status).toBe(200);
    // An idle service never sheds: with 1 ms left this request fails by its deadline, not by an estimate.
    const idle = await embed(await imagesFrame(1), "?deadline_ms=1");
    expect([idle.status, (await problemOf(idle)).code]).toEqual([503, "timeout"]);

    const backlog = embed(await imagesFrame(8));
    await waitForImageQueue(service, 8);
    const shed = await embed(await imagesFrame(1), "?deadline_ms=1");
    expect(shed.status).toBe(503);
    expect(Number(shed.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const problem = await problemOf(shed);
    expect(problem.code).toBe("shed");
    expect(problem.detail).toMatch(/retry on another backend/);
    // Refused before queuing: the backlog is as it was.
    expect(service.deps.images.stats().queueDepth).toBe(8);

    // The same image with a generous deadline, and without one, joins the backlog; 6 more fill the batch of 16.
    const generous = embed(await imagesFrame(1), "?deadline_ms=120000");
    const plain = embed(await imagesFrame(1));
    await waitForImageQueue(service, 10);
    const filler = embed(await imagesFrame(6));
    for (const response of await Promise.all([backlog, generous, plain, filler]))
      expect(response.status).toBe(200);

    const metrics = await (await signedGet(`${url}/metrics`)).text();
    expect(metrics).toMatch(/clip_requests_shed_total\{route="\/v1\/embed\/images"\} 1\b/);
  }, 120_000);

  it("sheds texts and captions by their own queues too", async () => {
    service = await startTestService({ ...HELD, BATCH_SIZES: "1,4" });
    const { url } = service;
    const tokenizer = await loadClipTokenizer(TEST_MODEL_DIR);
    const texts = (n: number) =>
      frame({
        kind: "texts",
        dtype: "f32",
        texts: Array.from({ length: n }, (_, i) => tokenizer.encode(`${i} blue stars`)),
      });
    expect((await signedPost(`${url}/v1/embed/texts`, texts(4))).status).toBe(200);
    const backlog = signedPost(`${url}/v1/embed/texts`, texts(2));
    const running = service;
    await waitFor("2 texts in the queue", () => running.deps.texts.stats().queueDepth === 2, {
      timeoutMs: 60_000,
      intervalMs: 10,
    });
    const shed = await signedPost(`${url}/v1/embed/texts?deadline_ms=1`, texts(1));
    expect([shed.status, (await problemOf(shed)).code]).toEqual([503, "shed"]);

    expect((await signedPost(`${url}/v1/embed/images`, await imagesFrame(4))).status).toBe(200);
    const images = signedPost(`${url}/v1/embed/images`, await imagesFrame(2));
    await waitForImageQueue(service, 2);
    const captions = await signedPost(`${url}/v1/captions?top_k=2&deadline_ms=1`, await imagesFrame(1));
    expect([captions.status, (await problemOf(captions)).code]).toEqual([503, "shed"]);

    // Fill both batches so the backlogs leave.
    const fillers = [
      signedPost(`${url}/v1/embed/texts`, texts(2)),
      signedPost(`${url}/v1/embed/images`, await imagesFrame(2)),
    ];
    for (const response of await Promise.all([backlog, images, ...fillers]))
      expect(response.status).toBe(200);
  }, 120_000);

  it("shortens the route's timeout to deadline_ms, and refuses a malformed one with 400", async () => {
    // Nothing leaves the queue for 2 minutes: only the request's own deadline can answer it sooner.
    service = await startTestService({ ...HELD, BATCH_SIZES: "64" });
    const { url } = service;
    const body = await imagesFrame(1);
    const late = await signedPost(`${url}/v1/embed/images?deadline_ms=300`, body);
    expect(late.status).toBe(503);
    expect(Number(late.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await problemOf(late)).toMatchObject({ code: "timeout", detail: "no answer within 300 ms" });

    for (const value of ["0", "-5", "1.5", "abc", "", "600001"]) {
      const response = await signedPost(`${url}/v1/embed/images?deadline_ms=${value}`, body);
      expect([value, response.status]).toEqual([value, 400]);
      expect((await problemOf(response)).code).toBe("invalid_input");
    }
    const captions = await signedPost(`${url}/v1/captions?top_k=2&deadline_ms=soon`, body);
    expect([captions.status, (await problemOf(captions)).code]).toEqual([400, "invalid_input"]);
  }, 120_000);
});
