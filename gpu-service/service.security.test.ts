import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTENT_TYPE } from "../src/protocol/index.ts";
import { signRequest } from "../src/signing/index.ts";
import {
  frame,
  modelPresent,
  signedGet,
  signedPost,
  startTestService,
  TEST_SECRET,
} from "../test/support/gpu-service.ts";
import type { RunningService } from "./service.ts";

describe.skipIf(!modelPresent())("GPU service authentication", () => {
  let service: RunningService;
  const body = frame({ kind: "texts", dtype: "f32", texts: [[1, 2]] });
  beforeAll(async () => {
    service = await startTestService({ GPU_BEARER_TOKENS: "scraper-token-0123456789" });
  }, 120_000);
  afterAll(() => service?.shutdown());

  const post = (path: string, headers: Record<string, string>, payload: Uint8Array = body) =>
    fetch(`${service.url}${path}`, {
      method: "POST",
      body: payload,
      headers: { "content-type": CONTENT_TYPE, ...headers },
    });

  it.each(["/v1/embed/images", "/v1/embed/texts", "/hf/zero-shot-image-classification"])(
    "%s refuses an unsigned request with 401",
    async (path) => {
      const response = await post(path, {});
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    },
  );

  it("refuses a signature made with another secret, a tampered body, another path, and a stale timestamp", async () => {
    const other = await signRequest({
      secret: "another-secret-0123456789abcdefghijkl",
      method: "POST",
      path: "/v1/embed/texts",
      body,
    });
    expect((await post("/v1/embed/texts", other)).status).toBe(401);
    const good = await signRequest({ secret: TEST_SECRET, method: "POST", path: "/v1/embed/texts", body });
    expect(
      (await post("/v1/embed/texts", good, frame({ kind: "texts", dtype: "f32", texts: [[1, 3]] }))).status,
    ).toBe(401);
    expect((await post("/v1/embed/images", good)).status).toBe(401);
    const stale = await signRequest({
      secret: TEST_SECRET,
      method: "POST",
      path: "/v1/embed/texts",
      body,
      now: Date.now() - 61_000,
    });
    expect((await post("/v1/embed/texts", stale)).status).toBe(401);
    expect((await post("/v1/embed/texts", good)).status).toBe(200);
  });

  it("never echoes the secret or the expected signature in its refusal", async () => {
    const forged = {
      "x-clip-timestamp": String(Math.floor(Date.now() / 1000)),
      "x-clip-signature": `v1=${"0".repeat(64)}`,
    };
    const text = await (await post("/v1/embed/texts", forged)).text();
    expect(text).not.toContain(TEST_SECRET);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
  });

  it("leaves /healthz and /readyz open, guards /metrics (signature or a configured bearer token)", async () => {
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${service.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${service.url}/metrics`, { headers: { authorization: "Bearer wrong-token-0123456789" } }))
        .status,
    ).toBe(401);
    expect(
      (
        await fetch(`${service.url}/metrics`, {
          headers: { authorization: "Bearer scraper-token-0123456789" },
        })
      ).status,
    ).toBe(200);
    expect((await signedGet(`${service.url}/metrics`)).status).toBe(200);
  });

  it("refuses a body over the limit before reading it (413)", async () => {
    const small = await startTestService({ MAX_BODY_BYTES: "2048" });
    try {
      const response = await signedPost(`${small.url}/v1/embed/images`, new Uint8Array(4096));
      expect(response.status).toBe(413);
    } finally {
      await small.shutdown();
    }
  }, 120_000);
});
