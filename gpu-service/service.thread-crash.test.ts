import { cp, mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { decodeResponse } from "../src/protocol/index.ts";
import {
  frame,
  modelPresent,
  signedPost,
  startTestService,
  TEST_MODEL_DIR,
} from "../test/support/gpu-service.ts";
import {
  crashInferenceThread,
  FAULTY_INFERENCE_THREAD,
  killInferenceThread,
} from "../test/support/inference-thread.ts";
import type { RunningService } from "./service.ts";

/** The inference thread dies under a running service: a clear, retryable answer while it is replaced, then service. */
describe.skipIf(!modelPresent())("GPU service when its inference thread dies", () => {
  let service: RunningService;
  let image: Uint8Array;
  let root: string;
  let dir: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "thread-crash-"));
    dir = join(root, "model");
    await cp(TEST_MODEL_DIR, dir, { recursive: true });
    service = await startTestService(
      { INFERENCE_THREAD: "on", MODEL_DIR: dir },
      { inferenceThreadScript: FAULTY_INFERENCE_THREAD },
    );
    image = new Uint8Array(
      await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 200, g: 40, b: 90 } } })
        .jpeg()
        .toBuffer(),
    );
  });
  afterAll(async () => {
    await service.shutdown();
    await rm(root, { recursive: true, force: true });
  });

  const embed = () =>
    signedPost(`${service.url}/v1/embed/images`, frame({ kind: "images", dtype: "f32", images: [image] }));
  const embedding = async (response: Response) => {
    const decoded = decodeResponse(new Uint8Array(await response.arrayBuffer()));
    if (!decoded.ok) throw new Error(decoded.message);
    return decoded.value.items;
  };

  it("answers 503 not_ready with Retry-After and the reason, leaves rotation, and serves the same once replaced", async () => {
    const first = await embed();
    expect(first.status).toBe(200);
    const before = await embedding(first);

    // The folder is moved away first, so the replacement cannot load until it is back: the gap is observable.
    await rename(dir, `${dir}.away`);
    await killInferenceThread(service.deps.model);
    await vi.waitFor(() => expect(service.deps.model.unavailable).toBeDefined(), { timeout: 10_000 });
    for (const response of [await embed(), await fetch(`${service.url}/readyz`)]) {
      expect(response.status).toBe(503);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(response.headers.get("retry-after")).toBe("1");
      const body = (await response.json()) as { code: string; detail: string };
      expect(body.code).toBe("not_ready");
      expect(body.detail).toMatch(/inference thread stopped/);
    }
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);

    await rename(`${dir}.away`, dir);
    await vi.waitFor(async () => expect((await fetch(`${service.url}/readyz`)).status).toBe(200), {
      timeout: 60_000,
      interval: 50,
    });
    const after = await embed();
    expect(after.status).toBe(200);
    expect(await embedding(after)).toEqual(before);
  });

  it("answers a request whose batch was being prepared when the thread died 503 not_ready, not 500", async () => {
    await vi.waitFor(async () => expect((await fetch(`${service.url}/readyz`)).status).toBe(200), {
      timeout: 60_000,
    });
    // Large photos take a while to preprocess: the thread dies after the request was admitted, before its batch runs.
    const photo = new Uint8Array(
      await sharp({
        create: { width: 4000, height: 3000, channels: 3, background: { r: 90, g: 140, b: 30 } },
      })
        .jpeg()
        .toBuffer(),
    );
    const pending = signedPost(
      `${service.url}/v1/embed/images`,
      frame({ kind: "images", dtype: "f32", images: Array.from({ length: 16 }, () => photo) }),
    );
    await vi.waitFor(() => expect(service.deps.images.stats().preparing).toBeGreaterThan(0), {
      timeout: 30_000,
      interval: 1,
    });
    await crashInferenceThread(service.deps.model);
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    const body = (await response.json()) as { code: string; detail: string };
    expect(body.code).toBe("not_ready");
    expect(body.detail).toMatch(/inference thread stopped/);
    await vi.waitFor(async () => expect((await embed()).status).toBe(200), { timeout: 60_000, interval: 50 });
  });
});
