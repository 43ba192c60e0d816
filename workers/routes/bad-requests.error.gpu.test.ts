import { describe, expect, inject, it } from "vitest";
import type { Problem } from "../../src/api/index.ts";
import { callWorker, postJson, shape } from "../../test/support/workers/worker.ts";

const good = () => shape("red circle").base64;
const labels = ["red circle", "blue star"];
// A real HTTPS image host (test/support/image-host.ts), fetched by the real GPU service like any public host.
const IMAGE_HOST = inject("imageHost");
const svg = btoa('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
const json = (body: unknown) => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" },
});

interface BadRequest {
  name: string;
  path?: string;
  init: () => RequestInit;
  status: number;
  code: string;
  pointer?: string;
}

const BAD_REQUESTS: BadRequest[] = [
  {
    name: "invalid JSON",
    init: () => ({ method: "POST", body: '{"images": [', headers: { "content-type": "application/json" } }),
    status: 400,
    code: "invalid_json",
  },
  {
    name: "a text/plain body",
    init: () => ({ method: "POST", body: "hello", headers: { "content-type": "text/plain" } }),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "no content type",
    init: () => ({ method: "POST", body: "{}" }),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "a declared body over 24 MiB",
    init: () => ({
      method: "POST",
      body: "{}",
      headers: { "content-type": "application/json", "content-length": String(25 * 1024 * 1024) },
    }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a streamed body over 24 MiB",
    init: () => ({
      method: "POST",
      body: new Blob([new Uint8Array(25 * 1024 * 1024)]).stream(),
      headers: { "content-type": "application/json" },
    }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a JSON array instead of an object",
    init: () => json([1, 2]),
    status: 400,
    code: "invalid_request",
  },
  { name: "JSON null", init: () => json(null), status: 400, code: "invalid_request" },
  {
    name: "no images",
    init: () => json({ labels }),
    status: 400,
    code: "invalid_request",
    pointer: "/images",
  },
  {
    name: "zero images",
    init: () => json({ images: [], labels }),
    status: 400,
    code: "invalid_request",
    pointer: "/images",
  },
  {
    name: "17 images",
    init: () => json({ images: Array.from({ length: 17 }, () => ({ base64: good() })), labels }),
    status: 400,
    code: "invalid_request",
    pointer: "/images",
  },
  {
    name: "no labels",
    init: () => json({ images: [{ base64: good() }] }),
    status: 400,
    code: "invalid_request",
    pointer: "/labels",
  },
  {
    name: "zero labels",
    init: () => json({ images: [{ base64: good() }], labels: [] }),
    status: 400,
    code: "invalid_request",
    pointer: "/labels",
  },
  {
    name: "an empty label",
    init: () => json({ images: [{ base64: good() }], labels: ["cat", "  "] }),
    status: 400,
    code: "invalid_request",
    pointer: "/labels/1",
  },
  {
    name: "1001 labels",
    init: () =>
      json({ images: [{ base64: good() }], labels: Array.from({ length: 1001 }, (_, i) => `l${i}`) }),
    status: 400,
    code: "invalid_request",
    pointer: "/labels",
  },
  {
    name: "a label of 1001 characters",
    init: () => json({ images: [{ base64: good() }], labels: ["x".repeat(1001)] }),
    status: 400,
    code: "invalid_request",
    pointer: "/labels/0",
  },
  {
    name: "labels as a string",
    init: () => json({ images: [{ base64: good() }], labels: "cat" }),
    status: 400,
    code: "invalid_request",
    pointer: "/labels",
  },
  {
    name: "a template without {}",
    init: () => json({ images: [{ base64: good() }], labels, templates: ["a photo"] }),
    status: 400,
    code: "invalid_request",
    pointer: "/templates/0",
  },
  {
    name: "zero templates",
    init: () => json({ images: [{ base64: good() }], labels, templates: [] }),
    status: 400,
    code: "invalid_request",
    pointer: "/templates",
  },
  {
    name: "top_k of 0",
    init: () => json({ images: [{ base64: good() }], labels, top_k: 0 }),
    status: 400,
    code: "invalid_request",
    pointer: "/top_k",
  },
  {
    name: "a fractional top_k",
    init: () => json({ images: [{ base64: good() }], labels, top_k: 1.5 }),
    status: 400,
    code: "invalid_request",
    pointer: "/top_k",
  },
  {
    name: "an unknown field",
    init: () => json({ images: [{ base64: good() }], labels, threshold: 0.5 }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "an unknown field in an image",
    init: () => json({ images: [{ base64: good(), name: "x.jpg" }], labels }),
    status: 400,
    code: "invalid_request",
    pointer: "/images/0",
  },
  {
    name: "an image with both base64 and url",
    init: () => json({ images: [{ base64: good(), url: "https://x.test/a.jpg" }], labels }),
    status: 400,
    code: "invalid_request",
    pointer: "/images/0",
  },
  {
    name: "an image with neither base64 nor url",
    init: () => json({ images: [{}], labels }),
    status: 400,
    code: "invalid_request",
    pointer: "/images/0",
  },
  {
    name: "bad base64",
    init: () => json({ images: [{ base64: "@@not base64@@" }], labels }),
    status: 400,
    code: "invalid_base64",
    pointer: "/images/0/base64",
  },
  {
    name: "base64 of text",
    init: () => json({ images: [{ base64: btoa("just some words, not pixels") }], labels }),
    status: 400,
    code: "not_an_image",
    pointer: "/images/0/base64",
  },
  {
    name: "base64 of an SVG",
    init: () => json({ images: [{ base64: svg }], labels }),
    status: 400,
    code: "not_an_image",
    pointer: "/images/0/base64",
  },
  {
    name: "an image over 10 MiB",
    init: () => json({ images: [{ base64: btoa(`\xff\xd8\xff${"\0".repeat(10 * 1024 * 1024)}`) }], labels }),
    status: 413,
    code: "image_too_large",
    pointer: "/images/0/base64",
  },
  {
    name: "an http URL",
    init: () => json({ images: [{ url: "http://images.test/cat.jpg" }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "a loopback URL",
    init: () => json({ images: [{ url: "https://127.0.0.1/cat.jpg" }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "a private-network URL",
    init: () => json({ images: [{ url: "https://10.1.2.3/cat.jpg" }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "a URL with credentials",
    init: () => json({ images: [{ url: "https://user:pw@images.test/cat.jpg" }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "something that is not a URL",
    init: () => json({ images: [{ url: "not a url" }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "a URL serving HTML",
    init: () => json({ images: [{ url: `${IMAGE_HOST}/page.html` }], labels }),
    status: 400,
    code: "not_an_image",
    pointer: "/images/0/url",
  },
  {
    name: "a URL answering 404",
    init: () => json({ images: [{ url: `${IMAGE_HOST}/missing.jpg` }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "a URL redirecting more than 3 times",
    init: () => json({ images: [{ url: `${IMAGE_HOST}/loop/0` }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "a URL redirecting to http",
    init: () => json({ images: [{ url: `${IMAGE_HOST}/to-http` }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "a URL declaring more than 10 MiB",
    init: () => json({ images: [{ url: `${IMAGE_HOST}/huge` }], labels }),
    status: 413,
    code: "image_too_large",
    pointer: "/images/0/url",
  },
  {
    name: "a URL naming the edge's own host",
    init: () => json({ images: [{ url: "https://edge.test/v1/models" }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "a URL naming a local host",
    init: () => json({ images: [{ url: "https://printer.local/scan.jpg" }], labels }),
    status: 400,
    code: "invalid_image_url",
    pointer: "/images/0/url",
  },
  {
    name: "multipart without an image",
    init: () => ({ method: "POST", body: form({ labels: "cat" }) }),
    status: 400,
    code: "invalid_request",
    pointer: "/image",
  },
  {
    name: "multipart with an unknown field",
    init: () => ({ method: "POST", body: form({ labels: "cat", colour: "red" }, true) }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a malformed multipart body",
    init: () => ({
      method: "POST",
      body: "--x\r\nbroken",
      headers: { "content-type": "multipart/form-data; boundary=x" },
    }),
    status: 400,
    code: "invalid_multipart",
  },
  {
    name: "embeddings with no input",
    path: "/v1/embeddings",
    init: () => json({ input: [] }),
    status: 400,
    code: "invalid_request",
    pointer: "/input",
  },
  {
    name: "embeddings with a bad encoding_format",
    path: "/v1/embeddings",
    init: () => json({ input: ["cat"], encoding_format: "hex" }),
    status: 400,
    code: "invalid_request",
    pointer: "/encoding_format",
  },
  {
    name: "embeddings for another model",
    path: "/v1/embeddings",
    init: () => json({ input: ["cat"], model: "text-embedding-3-small" }),
    status: 404,
    code: "model_not_found",
  },
  {
    name: "embeddings sent as multipart",
    path: "/v1/embeddings",
    init: () => ({ method: "POST", body: form({ input: "cat" }) }),
    status: 415,
    code: "unsupported_media_type",
  },
  {
    name: "an unknown route",
    path: "/v1/nope",
    init: () => ({ method: "GET" }),
    status: 404,
    code: "not_found",
  },
];

function form(fields: Record<string, string>, withImage = false): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (withImage)
    data.append("image", new Blob([Uint8Array.from(atob(good()), (c) => c.charCodeAt(0))]), "a.jpg");
  return data;
}

describe("bad requests each get their documented problem, and nothing leaks", () => {
  it.each(BAD_REQUESTS)(
    "$name → $status $code",
    async ({ path = "/v1/classify", init, status, code, pointer }) => {
      const response = await callWorker(path, init());
      expect(response.status).toBe(status);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      const problem = (await response.json()) as Problem;
      expect(problem.code).toBe(code);
      expect(problem.status).toBe(status);
      expect(problem.type).toBe(`https://clip-edge.dev/docs/errors#${code}`);
      expect(problem.request_id).toBe(response.headers.get("x-request-id"));
      expect(JSON.stringify(problem)).not.toMatch(/\n\s+at |\.ts:\d+/);
      if (pointer) expect(problem.errors?.map((e) => e.pointer)).toContain(pointer);
    },
  );

  it("has at least 30 cases", () => {
    expect(BAD_REQUESTS.length).toBeGreaterThanOrEqual(30);
  });

  it("keeps a caller's acceptable X-Request-Id and replaces an unacceptable one", async () => {
    const kept = await callWorker("/v1/nope", { headers: { "x-request-id": "phone-retry-1234" } });
    expect(kept.headers.get("x-request-id")).toBe("phone-retry-1234");
    const replaced = await callWorker("/v1/nope", { headers: { "x-request-id": "<script>" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^req_/);
  });

  it("fetches a good https image URL (following one redirect, on the GPU tier) and classifies it", async () => {
    const response = await postJson("/v1/classify", {
      images: [{ url: `${IMAGE_HOST}/short` }],
      labels,
      templates: ["a photo of a {}."],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { results: { labels: { label: string }[] }[] };
    expect(body.results[0]?.labels[0]?.label).toBe("red circle");
  });
});
