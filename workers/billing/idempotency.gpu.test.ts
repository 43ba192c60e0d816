import { evictDurableObject } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import {
  committed,
  createKey,
  edge,
  expectProblem,
  meterOf,
  postJsonWith,
} from "../../test/support/workers/billing.ts";
import { bytesOf, shape } from "../../test/support/workers/worker.ts";

const classify = (colourShape: string) => ({
  images: [{ base64: shape(colourShape).base64 }],
  labels: ["red circle", "blue star", "green square"],
  templates: ["a photo of a {}."],
});

/** Waits (bounded) until the image host holds a download: the first attempt is then surely in flight. */
async function untilHeld(url: string): Promise<void> {
  for (let tries = 0; tries < 300; tries++) {
    if ((await fetch(url)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing was held at ${url}`);
}

describe("Idempotency-Key", () => {
  it("answers a retry with the original response, byte for byte, and bills once", async () => {
    const { key, id } = await createKey();
    const headers = { "idempotency-key": "retry-1" };
    const first = await postJsonWith(key, "/v1/classify", classify("red circle"), headers);
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const firstBody = await first.text();

    for (let i = 0; i < 3; i++) {
      const retry = await postJsonWith(key, "/v1/classify", classify("red circle"), headers);
      expect(retry.status).toBe(200);
      expect(retry.headers.get("idempotent-replayed")).toBe("true");
      expect(retry.headers.get("x-clip-model")).toBe(first.headers.get("x-clip-model"));
      expect(retry.headers.get("ratelimit")).toBeTruthy();
      expect(await retry.text()).toBe(firstBody);
    }
    expect((await committed(id)).records).toHaveLength(1);

    // The response lives in the object's storage, not its memory.
    await evictDurableObject(meterOf(id));
    const afterRestart = await postJsonWith(key, "/v1/classify", classify("red circle"), headers);
    expect(afterRestart.headers.get("idempotent-replayed")).toBe("true");
    expect(await afterRestart.text()).toBe(firstBody);
    expect((await committed(id)).records).toHaveLength(1);
  });

  it("answers 409 to a repeat while the first attempt still runs, then replays once it is done", async () => {
    const { key, id } = await createKey();
    // The first attempt's image comes from a slow host that answers only when the test says so.
    const hold = `in-flight-${crypto.randomUUID()}`;
    const control = inject("imageHostControl");
    const body = {
      images: [{ url: `${inject("imageHost")}/held/${hold}.jpg` }],
      labels: ["blue star", "red circle"],
    };
    const headers = { "idempotency-key": "in-flight-1" };

    const first = postJsonWith(key, "/v1/classify", body, headers);
    await untilHeld(`${control}/held/${hold}`);
    const repeat = await postJsonWith(key, "/v1/classify", body, headers);
    await expectProblem(repeat, 409, "idempotency_in_progress");
    expect(Number(repeat.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);

    await fetch(`${control}/release/${hold}`, { method: "POST" });
    const done = await first;
    expect(done.status).toBe(200);
    const replay = await postJsonWith(key, "/v1/classify", body, headers);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(await replay.text()).toBe(await done.text());
    expect((await committed(id)).records).toHaveLength(1);
  });

  it("answers 422 when the same key comes with another body or route, billing nothing more", async () => {
    const { key, id } = await createKey();
    const headers = { "idempotency-key": "reused-1" };
    expect((await postJsonWith(key, "/v1/embeddings", { input: "a cat" }, headers)).status).toBe(200);
    await expectProblem(
      await postJsonWith(key, "/v1/embeddings", { input: "a dog" }, headers),
      422,
      "idempotency_key_reused",
    );
    await expectProblem(
      await postJsonWith(key, "/v1/classify", classify("red circle"), headers),
      422,
      "idempotency_key_reused",
    );
    expect((await committed(id)).records).toHaveLength(1);
  });

  it("keeps nothing for a failed attempt: the retry runs again, and a corrected request under the key succeeds", async () => {
    const { key, id } = await createKey();
    const headers = { "content-type": "application/json", "idempotency-key": "failed-1" };
    const bad = () => edge("/v1/embeddings", { key, init: { method: "POST", body: "{", headers } });
    await expectProblem(await bad(), 400, "invalid_json");
    const again = await bad();
    await expectProblem(again, 400, "invalid_json");
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    const fixed = await edge("/v1/embeddings", {
      key,
      init: { method: "POST", body: '{"input":"x"}', headers },
    });
    expect(fixed.status).toBe(200);
    expect((await committed(id)).records).toHaveLength(1);
  });

  it("recognises a multipart retry whose form was rebuilt with a new boundary", async () => {
    const { key, id } = await createKey();
    const image = shape("green square");
    const form = () => {
      const data = new FormData();
      data.append("image", new Blob([bytesOf(image.base64)], { type: image.mime }), "shape");
      data.append("labels", "green square");
      data.append("labels", "red circle");
      return data;
    };
    const send = () =>
      edge("/v1/classify", {
        key,
        init: { method: "POST", body: form(), headers: { "idempotency-key": "mp-1" } },
      });
    const first = await send();
    expect(first.status).toBe(200);
    const retry = await send();
    expect(retry.headers.get("idempotent-replayed")).toBe("true");
    expect((await committed(id)).records).toHaveLength(1);
  });

  it("scopes keys to the API key, and refuses a malformed Idempotency-Key", async () => {
    const [a, b] = [await createKey(), await createKey()];
    const headers = { "idempotency-key": "shared-name" };
    expect((await postJsonWith(a.key, "/v1/embeddings", { input: "one" }, headers)).status).toBe(200);
    const other = await postJsonWith(b.key, "/v1/embeddings", { input: "two" }, headers);
    expect(other.status).toBe(200);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    const malformed = await expectProblem(
      await postJsonWith(a.key, "/v1/embeddings", { input: "one" }, { "idempotency-key": "x".repeat(256) }),
      400,
      "invalid_request",
    );
    expect(malformed.errors?.[0]?.pointer).toBe("/headers/idempotency-key");
  });
});
