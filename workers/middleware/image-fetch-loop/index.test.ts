import { describe, expect, it } from "vitest";
import { IMAGE_FETCH_USER_AGENT } from "../../../src/net/index.ts";
import { callWorker } from "../../../test/support/workers/worker.ts";

describe("refuseOwnImageFetches", () => {
  it("answers our own image fetcher 403 on every route, before any key or work", async () => {
    for (const path of ["/healthz", "/v1/models", "/v1/classify", "/admin/keys"]) {
      const response = await callWorker(path, { headers: { "user-agent": IMAGE_FETCH_USER_AGENT } });
      expect(response.status, path).toBe(403);
      expect(((await response.json()) as { code: string }).code).toBe("forbidden");
    }
  });

  it("lets every other client through", async () => {
    const response = await callWorker("/healthz", { headers: { "user-agent": "okhttp/4.12.0" } });
    expect(response.status).toBe(200);
  });
});
