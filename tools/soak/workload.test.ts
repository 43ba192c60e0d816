import { describe, expect, it } from "vitest";
import { createRng } from "../../shapes-world/prng.ts";
import { isAmbiguous, readAnswer } from "./client.ts";
import type { Corpus } from "./corpus.ts";
import type { Attempt, LogicalRequest } from "./types.ts";
import { FRESH_SHARE, pickRoute, planRequest } from "./workload.ts";

const corpus: Corpus = {
  images: [
    { name: "a.jpg", mime: "image/jpeg", bytes: new Uint8Array([1, 2, 3]), base64: "AQID" },
    { name: "b.png", mime: "image/png", bytes: new Uint8Array([4, 5]), base64: "BAU=" },
  ],
  labels: ["red circle", "blue star", "yellow square", "green triangle"],
  texts: ["a photo of a red circle.", "three blue stars"],
};

describe("the workload", () => {
  it("picks routes by weight", () => {
    const mix = [
      { route: "classify", weight: 3 },
      { route: "captions", weight: 1 },
    ] as const;
    expect(pickRoute(mix, 0)).toBe("classify");
    expect(pickRoute(mix, 0.74)).toBe("classify");
    expect(pickRoute(mix, 0.76)).toBe("captions");
    expect(pickRoute(mix, 0.999_999)).toBe("captions");
  });

  it("builds classify requests of 1–4 images and 2–6 labels, a share of them never seen before", async () => {
    const rng = createRng(1);
    let fresh = 0;
    const labels: string[] = [];
    const encodings = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const plan = planRequest("classify", rng, corpus, () => `fresh label ${fresh++}`);
      encodings.add(plan.encoding);
      expect(plan.images).toBeGreaterThanOrEqual(1);
      expect(plan.images).toBeLessThanOrEqual(4);
      const { body } = plan.body();
      const fields =
        typeof body === "string"
          ? (JSON.parse(body) as { images: unknown[]; labels: string[] })
          : {
              images: (body as FormData).getAll("image"),
              labels: (body as FormData).getAll("labels") as string[],
            };
      expect(fields.images).toHaveLength(plan.images);
      expect(fields.labels.length).toBeGreaterThanOrEqual(2);
      expect(fields.labels.length).toBeLessThanOrEqual(6);
      labels.push(...fields.labels);
    }
    expect(encodings).toEqual(new Set(["json", "multipart"]));
    const freshShare = labels.filter((l) => l.startsWith("fresh")).length / labels.length;
    expect(freshShare).toBeGreaterThan(FRESH_SHARE / 2);
    expect(freshShare).toBeLessThan(FRESH_SHARE * 2);
  });

  it("sends the same JSON on every attempt, and a rebuilt multipart form with the same parts", async () => {
    const rng = createRng(2);
    for (let i = 0; i < 20; i++) {
      const plan = planRequest("captions", rng, corpus, () => "unused");
      const [first, second] = [plan.body().body, plan.body().body];
      if (typeof first === "string") expect(second).toBe(first);
      else {
        expect(second).not.toBe(first);
        const parts = async (form: FormData) =>
          Promise.all(
            [...form.entries()].map(async ([name, value]) => [
              name,
              typeof value === "string" ? value : [...new Uint8Array(await value.arrayBuffer())],
            ]),
          );
        expect(await parts(second as FormData)).toEqual(await parts(first as FormData));
      }
    }
  });

  it("builds embeddings requests of texts and images, never empty", () => {
    const rng = createRng(3);
    for (let i = 0; i < 100; i++) {
      const plan = planRequest("embeddings", rng, corpus, () => "fresh text");
      const input = (JSON.parse(plan.body().body as string) as { input: unknown[] }).input;
      expect(input.length).toBeGreaterThan(0);
      expect(
        input.filter((item) => typeof item === "object" && item !== null && "image" in item),
      ).toHaveLength(plan.images);
    }
  });
});

describe("reading answers", () => {
  const response = (status: number, contentType: string) => ({
    status,
    headers: new Headers({ "content-type": contentType }),
  });

  it("takes the problem code of an error, and the usage of a success", () => {
    expect(readAnswer(response(429, "application/problem+json"), '{"code":"rate_limited"}')).toEqual({
      status: 429,
      code: "rate_limited",
    });
    expect(
      readAnswer(
        response(200, "application/json"),
        '{"usage":{"images":1,"texts_computed":2,"texts_cached":3}}',
      ),
    ).toEqual({ status: 200, usage: { images: 1, texts_computed: 2, texts_cached: 3 } });
  });

  it("calls out an error that is not problem+json, and a success without usage", () => {
    expect(readAnswer(response(500, "text/plain"), "Internal Server Error").malformed).toMatch(
      /500 is not a problem\+json/,
    );
    expect(readAnswer(response(502, "application/problem+json"), '{"title":"no code"}').malformed).toMatch(
      /not a problem\+json with a code/,
    );
    expect(readAnswer(response(200, "application/json"), '{"usage":{"images":-1}}').malformed).toMatch(
      /without a valid usage/,
    );
    expect(readAnswer(response(302, "text/html"), "").malformed).toBe("unexpected status 302");
  });

  it("treats a request as ambiguous when it ended without knowing whether it was served", () => {
    const request = (...attempts: Partial<Attempt>[]): LogicalRequest => ({
      client: 0,
      seq: 0,
      route: "classify",
      encoding: "json",
      idempotencyKey: "k",
      images: 1,
      attempts: attempts.map((a) => ({
        requestId: "r",
        startMs: 0,
        endMs: 1,
        replayed: false,
        phase: "run",
        ...a,
      })),
    });
    expect(isAmbiguous(request({ noAnswer: "timeout" }))).toBe(true);
    expect(isAmbiguous(request({ noAnswer: "hard_stop" }))).toBe(true);
    expect(isAmbiguous(request({ status: 409, code: "idempotency_in_progress" }))).toBe(true);
    expect(isAmbiguous(request({ status: 500, code: "internal_error" }))).toBe(true);
    expect(isAmbiguous(request({ status: 503 }))).toBe(false); // a failed attempt stores nothing
    expect(isAmbiguous(request({ status: 200 }, { noAnswer: "timeout" }))).toBe(false);
  });
});
