import { imageUrlCases } from "./bad-urls.ts";
import type { BadRef } from "./types.ts";
import type { PlannedRequest } from "./workload.ts";

/**
 * The bad-input corpus (`--mix …,bad:1`): malformed and hostile requests across /v1/classify, /v1/embeddings,
 * /v1/captions and /v1/usage, each with the status and problem `code` it must get (docs/errors.md,
 * src/api/errors.ts — and what the edge really answers). None may be answered 2xx or billed.
 */
export interface BadCase extends BadRef {
  /** One attempt's body and headers (built again per attempt, like any multipart form). */
  body?: () => { body?: string | FormData | Uint8Array; headers: Record<string, string> };
  /** Sent instead of the request's own Idempotency-Key. */
  idempotencyHeader?: string;
  /** First send a valid request under the same key (served, billed), then this one with another body. */
  reusesKey?: boolean;
}

export interface BadCorpusInput {
  /** A real JPEG (its first bytes make the corrupt one). */
  jpeg: Uint8Array;
  edgeUrl: string;
  gpuUrl: string;
  /** The text of /etc/hosts: each name it maps to loopback becomes an image URL. */
  hostsFile: string;
}

const MiB = 1024 * 1024;
const JSON_TYPE = { "content-type": "application/json" };
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

/** Builds a body once, on first use: the corpus holds two bodies of 14 and 25 MiB. */
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

/**
 * Every case, in a fixed order (a run sends them round-robin, so a short run still covers the corpus).
 *
 * @example badCorpus({ jpeg, edgeUrl, gpuUrl, hostsFile: readFileSync("/etc/hosts", "utf8") }).length // ≥ 40
 */
export function badCorpus(input: BadCorpusInput): BadCase[] {
  const image = { base64: b64(input.jpeg) };
  // A JPEG's header and then noise: it passes the edge's format sniffing, and only a decoder finds it corrupt.
  const corrupt = new Uint8Array([...input.jpeg.subarray(0, 20), ...new Uint8Array(2_000).fill(0x55)]);
  const huge = lazy(() => {
    const bytes = new Uint8Array(10 * MiB + 1);
    bytes.set([0xff, 0xd8, 0xff, 0xe0]);
    return JSON.stringify({ images: [{ base64: b64(bytes) }], labels: ["cat"] });
  });
  const overBody = lazy(() => new Uint8Array(24 * MiB + 1).fill(0x20));
  const labels = ["red circle", "blue star"];
  const cases: BadCase[] = [];
  /** `answer` is the status and code it must get, e.g. "400 invalid_request". */
  const add = (
    path: string,
    name: string,
    answer: string,
    rest: Partial<BadCase> & { json?: unknown; raw?: string; type?: string } = {},
  ) => {
    const { json, raw, type, ...fields } = rest;
    const [status, code = ""] = answer.split(" ");
    const headers = type === undefined ? JSON_TYPE : type === "" ? {} : { "content-type": type };
    const text = json === undefined ? raw : JSON.stringify(json);
    cases.push({
      id: `${path.split("?")[0]?.replace("/v1/", "")}: ${name}`,
      method: "POST",
      path,
      expected: { status: Number(status), code },
      needsGpu: false,
      body: text === undefined ? undefined : () => ({ body: text, headers }),
      ...fields,
    });
  };
  const classify = (name: string, answer: string, rest?: Parameters<typeof add>[3]) =>
    add("/v1/classify", name, answer, rest);
  const invalid = (name: string, json: unknown) => classify(name, "400 invalid_request", { json });

  classify("invalid JSON", "400 invalid_json", { raw: '{"images": [' });
  invalid("a JSON array", [1, 2]);
  invalid("JSON null", null);
  invalid("images as a string", { images: "cat.jpg", labels });
  invalid("labels as a string", { images: [image], labels: "cat" });
  invalid("top_k as a string", { images: [image], labels, top_k: "3" });
  invalid("an unknown field", { images: [image], labels, threshold: 0.5 });
  invalid("zero images", { images: [], labels });
  invalid("17 images", { images: Array.from({ length: 17 }, () => image), labels });
  invalid("zero labels", { images: [image], labels: [] });
  invalid("1,001 labels", { images: [image], labels: Array.from({ length: 1001 }, (_, i) => `l${i}`) });
  invalid("a label of 1,001 characters", { images: [image], labels: ["x".repeat(1001)] });
  invalid("a blank label", { images: [image], labels: ["cat", "  "] });
  invalid("a template without {}", { images: [image], labels, templates: ["a photo"] });
  invalid("an image with base64 and url", {
    images: [{ ...image, url: "https://example.com/a.jpg" }],
    labels,
  });
  classify("bad base64", "400 invalid_base64", { json: { images: [{ base64: "@@not base64@@" }], labels } });
  classify("bytes that are not an image", "400 not_an_image", {
    json: { images: [{ base64: b64(new TextEncoder().encode("just some words, not pixels")) }], labels },
  });
  classify("a corrupt JPEG", "422 all_inputs_failed", {
    json: { images: [{ base64: b64(corrupt) }], labels },
    needsGpu: true,
  });
  classify("an image over 10 MiB", "413 image_too_large", {
    body: () => ({ body: huge(), headers: JSON_TYPE }),
  });
  // fetch declares the length of a byte body: the edge refuses it from Content-Length, before reading it. (A body
  // that only claims 24 MiB and never comes gets no answer under wrangler dev, which reads every body to its end.)
  classify("a body over 24 MiB (Content-Length)", "413 payload_too_large", {
    body: () => ({ body: overBody(), headers: JSON_TYPE }),
  });
  classify("Content-Type text/plain", "415 unsupported_media_type", { raw: "{}", type: "text/plain" });
  classify("no Content-Type", "415 unsupported_media_type", { raw: "{}", type: "" });
  classify("a malformed multipart body", "400 invalid_multipart", {
    raw: '--xyz\r\nContent-Disposition: form-data; name="image"\r\n\r\nno closing boundary',
    type: "multipart/form-data; boundary=xyz",
  });
  const form = (fields: Record<string, string>, withImage: boolean) => () => {
    const data = new FormData();
    if (withImage)
      data.append(
        "image",
        new Blob([input.jpeg as Uint8Array<ArrayBuffer>], { type: "image/jpeg" }),
        "a.jpg",
      );
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    return { body: data, headers: {} };
  };
  classify("multipart without an image", "400 invalid_request", { body: form({ labels: "cat" }, false) });
  classify("multipart with an unknown field", "400 invalid_request", {
    body: form({ labels: "cat", colour: "red" }, true),
  });
  classify("multipart top_k not an integer", "400 invalid_request", {
    body: form({ labels: "cat", top_k: "three" }, true),
  });
  for (const url of imageUrlCases(input))
    classify(`image URL: ${url.name}`, "400 invalid_image_url", {
      json: { images: [{ url: url.url }], labels },
      needsGpu: url.needsGpu,
    });

  const embeddings = (name: string, answer: string, json: unknown, rest: Partial<BadCase> = {}) =>
    add("/v1/embeddings", name, answer, { json, ...rest });
  add("/v1/embeddings", "invalid JSON", "400 invalid_json", { raw: "[" });
  embeddings("an empty input array", "400 invalid_request", { input: [] });
  embeddings("65 inputs", "400 invalid_request", { input: Array.from({ length: 65 }, (_, i) => `t${i}`) });
  embeddings("input as a number", "400 invalid_request", { input: 42 });
  embeddings("an unknown field", "400 invalid_request", { input: ["a cat"], user: "me" });
  embeddings("an unknown encoding_format", "400 invalid_request", {
    input: ["a cat"],
    encoding_format: "hex",
  });
  embeddings("a text of 20,001 characters", "400 invalid_request", { input: ["x".repeat(20_001)] });
  embeddings("a model it does not serve", "404 model_not_found", { input: ["a cat"], model: "gpt-4o" });
  embeddings("bad base64", "400 invalid_base64", { input: [{ image: { base64: "%%%" } }] });
  embeddings(
    "a corrupt JPEG",
    "422 image_decode_failed",
    { input: [{ image: { base64: b64(corrupt) } }] },
    {
      needsGpu: true,
    },
  );
  embeddings("a metadata-address image URL", "400 invalid_image_url", {
    input: [{ image: { url: "https://169.254.169.254/latest/meta-data/" } }],
  });
  add("/v1/embeddings", "multipart (JSON only)", "415 unsupported_media_type", {
    body: form({ input: "a cat" }, false),
  });
  embeddings(
    "the Idempotency-Key reused with another body",
    "422 idempotency_key_reused",
    { input: ["another body"] },
    {
      reusesKey: true,
    },
  );
  embeddings(
    "an Idempotency-Key of 300 characters",
    "400 invalid_request",
    { input: ["a cat"] },
    {
      idempotencyHeader: "k".repeat(300),
    },
  );

  const captions = (name: string, answer: string, json: unknown, rest: Partial<BadCase> = {}) =>
    add("/v1/captions", name, answer, { json, ...rest });
  captions("top_k of 101", "400 invalid_request", { images: [image], top_k: 101 });
  captions("zero images", "400 invalid_request", { images: [] });
  captions("an unknown field", "400 invalid_request", { images: [image], labels });
  captions(
    "a corrupt JPEG",
    "422 all_inputs_failed",
    { images: [{ base64: b64(corrupt) }] },
    { needsGpu: true },
  );

  const get = (path: string, name: string, answer: string, method = "GET") =>
    add(path, name, answer, { method });
  get("/v1/usage?from=9999-12-31&to=0001-01-01", "a range ending before it begins", "400 invalid_request");
  get("/v1/usage?from=yesterday", "a from that is not a day", "400 invalid_request");
  get("/v1/usage?account=someone-else", "an unknown parameter", "400 invalid_request");
  get("/v1/usage", "DELETE", "405 method_not_allowed", "DELETE");
  get("/v1/classify", "GET", "405 method_not_allowed");
  get("/v1/nope", "an unknown route", "404 not_found");
  return cases;
}

/**
 * The n-th bad request: the corpus round-robin. The key-reuse case gets a valid, served embeddings request as
 * its prelude (one new text from `fresh`, so its record is this run's alone).
 *
 * @example planBadCase(corpus, 0, () => "fresh").bad?.id // "classify: invalid JSON"
 */
export function planBadCase(corpus: readonly BadCase[], n: number, fresh: () => string): PlannedRequest {
  const bad = corpus[n % corpus.length];
  if (!bad) throw new Error("the bad-input corpus is empty");
  const { body, idempotencyHeader, reusesKey, ...ref } = bad;
  const prelude = reusesKey ? validEmbeddings(fresh()) : undefined;
  return {
    route: "bad",
    encoding: "other",
    images: 0,
    method: bad.method,
    path: bad.path,
    body: body ?? (() => ({ headers: {} })),
    bad: ref,
    idempotencyHeader: idempotencyHeader ?? (bad.method === "POST" ? undefined : null),
    prelude,
  };
}

function validEmbeddings(text: string): PlannedRequest {
  const body = JSON.stringify({ input: [text] });
  return {
    route: "embeddings",
    encoding: "json",
    images: 0,
    method: "POST",
    path: "/v1/embeddings",
    body: () => ({ body, headers: JSON_TYPE }),
  };
}
