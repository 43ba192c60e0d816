import { describe, expect, it } from "vitest";
import type { ClassifyResponse } from "../../src/api/index.ts";
import {
  billingEnv,
  committed,
  createKey,
  edge,
  expectProblem,
  postJsonWith,
} from "../../test/support/workers/billing.ts";
import { shape } from "../../test/support/workers/worker.ts";

const labels = ["red circle", "blue star"];
const templates = ["a photo of a {}."];
const truncated = () => btoa(atob(shape("red circle").base64).slice(0, 300));

describe("failed requests are not billed", () => {
  it.each([
    ["an invalid body (400)", { images: [], labels }, 400, "invalid_request"],
    [
      "images that are not images (400)",
      { images: [{ base64: btoa("words") }], labels },
      400,
      "not_an_image",
    ],
    [
      "every image failing to decode (422)",
      { images: [{ base64: truncated() }], labels, templates },
      422,
      "all_inputs_failed",
    ],
  ])("%s", async (_name, body, status, code) => {
    const { key, id } = await createKey();
    await expectProblem(await postJsonWith(key, "/v1/classify", body), status, code);
    const { records, month } = await committed(id);
    expect(records).toEqual([]);
    expect(month.requests).toBe(0);
  });

  it("an unknown route (404)", async () => {
    const { key, id } = await createKey();
    await expectProblem(await edge("/v1/nothing-here", { key }), 404, "not_found");
    expect((await committed(id)).records).toEqual([]);
  });

  it("the GPU tier being down (503)", async () => {
    const { key, id } = await createKey();
    const response = await edge("/v1/classify", {
      key,
      bindings: { ...billingEnv, GPU_BACKENDS: "http://127.0.0.1:9", HF_TOKEN: "" } as Env,
      init: {
        method: "POST",
        body: JSON.stringify({ images: [{ base64: shape("red circle").base64 }], labels, templates }),
        headers: { "content-type": "application/json" },
      },
    });
    await expectProblem(response, 503, "gpu_unavailable");
    expect((await committed(id)).records).toEqual([]);
  });

  it("a batch with one corrupt image among three bills the two that were served", async () => {
    const { key, id } = await createKey();
    const response = await postJsonWith(key, "/v1/classify", {
      images: [
        { base64: shape("red circle").base64 },
        { base64: truncated() },
        { base64: shape("blue star").base64 },
      ],
      labels,
      templates,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as ClassifyResponse;
    expect(body.results[1]?.error?.code).toBeTruthy();
    expect(body.usage.images).toBe(2);
    const { records } = await committed(id);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ ...body.usage, requests: 1, route: "/v1/classify" });
  });
});
