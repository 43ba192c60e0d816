import { describe, expect, it } from "vitest";
import type { CaptionsResponse, ModelInfo } from "../../src/api/index.ts";
import { bytesOf, callWorker, postJson, shape } from "../../test/support/workers/worker.ts";

describe("POST /v1/captions", () => {
  it("returns the nearest captions of the bank for each image, best first, naming its colour and shape", async () => {
    const names = ["red circle", "blue star"];
    const response = await postJson("/v1/captions", {
      images: names.map((n) => ({ base64: shape(n).base64 })),
      top_k: 3,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as CaptionsResponse;
    expect(body.results).toHaveLength(2);
    expect(body.usage).toEqual({ images: 2, texts_computed: 0, texts_cached: 0 });
    for (const [i, result] of body.results.entries()) {
      expect(result.captions).toHaveLength(3);
      const scores = result.captions.map((c) => c.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      const [colour, kind] = (names[i] as string).split(" ") as [string, string];
      expect(result.captions[0]?.text).toContain(colour);
      expect(result.captions[0]?.text).toContain(kind);
    }
  });

  it("answers multipart like JSON, and reports the bank's size in /v1/models", async () => {
    const image = shape("yellow square");
    const json = (await (
      await postJson("/v1/captions", { images: [{ base64: image.base64 }] })
    ).json()) as CaptionsResponse;
    const form = new FormData();
    form.append("image", new Blob([bytesOf(image.base64)]), "shape");
    const multipart = (await (
      await callWorker("/v1/captions", { method: "POST", body: form })
    ).json()) as CaptionsResponse;
    expect(multipart.results).toEqual(json.results);
    expect(json.results[0]?.captions).toHaveLength(5);
    const [model] = ((await (await callWorker("/v1/models")).json()) as { data: ModelInfo[] }).data;
    expect(model?.caption_bank?.size).toBeGreaterThan(0);
  });

  it("fails a corrupt image alone, and refuses a request where every image failed (nothing billed)", async () => {
    const good = { base64: shape("green circle").base64 };
    const corrupt = { base64: btoa(atob(good.base64).slice(0, 200)) };
    const partial = (await (
      await postJson("/v1/captions", { images: [good, corrupt] })
    ).json()) as CaptionsResponse;
    expect(partial.results[1]?.error?.code).toBe("invalid_image");
    expect(partial.usage.images).toBe(1);
    const none = await postJson("/v1/captions", { images: [corrupt] });
    expect(none.status).toBe(422);
    expect(((await none.json()) as { code: string }).code).toBe("all_inputs_failed");
  });
});
