import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_LIMITS, ERROR_CODES } from "../../src/api/index.ts";
import { checkImageUrl } from "../../src/net/index.ts";
import { badCorpus, planBadCase } from "./bad-cases.ts";
import { imageUrlCases, loopbackHostNames } from "./bad-urls.ts";

const HOSTS =
  "127.0.0.1 localhost\n127.0.1.1 box box.lan # this machine\n10.0.0.5 db\n::1 ip6-localhost ip6-loopback\n";
const where = { edgeUrl: "http://127.0.0.1:8787", gpuUrl: "http://127.0.0.1:8788", hostsFile: HOSTS };
const jpeg = new Uint8Array(readFileSync(new URL("../../examples/red-circle.jpg", import.meta.url)));
const corpus = badCorpus({ jpeg, ...where });
const docs = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
const bodyOf = (id: string) => corpus.find((c) => c.id === id)?.body?.().body;

describe("the bad-input corpus", () => {
  it("holds at least 40 distinct cases across the four routes, plus an unknown route and wrong methods", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    expect(new Set(corpus.map((c) => c.id)).size).toBe(corpus.length);
    const paths = new Set(corpus.map((c) => c.path.split("?")[0]));
    for (const path of ["/v1/classify", "/v1/embeddings", "/v1/captions", "/v1/usage", "/v1/nope"])
      expect(paths).toContain(path);
    expect(corpus.filter((c) => c.expected.code === "method_not_allowed").length).toBeGreaterThanOrEqual(2);
  });

  it("expects only codes of the closed set, at their status, each documented in docs/errors.md, never 2xx or 5xx", () => {
    for (const c of corpus) {
      const known = ERROR_CODES[c.expected.code as keyof typeof ERROR_CODES];
      expect(known, c.id).toBeDefined();
      expect(known.status, c.id).toBe(c.expected.status);
      expect(c.expected.status >= 400 && c.expected.status < 500, c.id).toBe(true);
      expect(docs, c.id).toContain(`| \`${c.expected.code}\``);
    }
  });

  it("makes its oversized inputs just over the limits they test", () => {
    const over = bodyOf("classify: a body over 24 MiB (Content-Length)") as Uint8Array;
    expect(over.length).toBe(API_LIMITS.maxBodyBytes + 1);
    const huge = JSON.parse(bodyOf("classify: an image over 10 MiB") as string) as {
      images: { base64: string }[];
    };
    const image = Buffer.from(huge.images[0]?.base64 ?? "", "base64");
    expect(image.length).toBe(API_LIMITS.maxImageBytes + 1);
    expect(Buffer.byteLength(bodyOf("classify: an image over 10 MiB") as string)).toBeLessThan(
      API_LIMITS.maxBodyBytes,
    );
    const label = JSON.parse(bodyOf("classify: a label of 1,001 characters") as string) as {
      labels: string[];
    };
    expect(label.labels[0]?.length).toBe(API_LIMITS.maxLabelChars + 1);
    // The corrupt JPEG still starts like one, so only a decoder can tell.
    const corrupt = JSON.parse(bodyOf("classify: a corrupt JPEG") as string) as {
      images: { base64: string }[];
    };
    expect([...Buffer.from(corrupt.images[0]?.base64 ?? "", "base64").subarray(0, 3)]).toEqual([
      0xff, 0xd8, 0xff,
    ]);
  });

  it("sends the usage route the inverted range, and each case the method it names", () => {
    const usage = corpus.find((c) => c.path === "/v1/usage?from=9999-12-31&to=0001-01-01");
    expect(usage).toMatchObject({ method: "GET", expected: { status: 400, code: "invalid_request" } });
    expect(corpus.find((c) => c.id === "usage: DELETE")?.method).toBe("DELETE");
  });
});

describe("the hostile image URLs", () => {
  it("take every name the hosts file maps to loopback, and nothing else", () => {
    expect(loopbackHostNames(HOSTS)).toEqual([
      "localhost",
      "box",
      "box.lan",
      "ip6-localhost",
      "ip6-loopback",
    ]);
    expect(loopbackHostNames("")).toEqual([]);
    const urls = imageUrlCases(where).map((u) => u.url);
    for (const name of ["box", "box.lan", "ip6-localhost", "ip6-loopback"])
      expect(urls).toContain(`https://${name}/cat.jpg`);
    expect(urls.some((u) => u.includes("//db/"))).toBe(false);
    expect(corpus.filter((c) => c.expected.code === "invalid_image_url").length).toBe(
      imageUrlCases(where).length + 1,
    );
  });

  it("name 127.0.0.1 in every spelling, the metadata address, a private one, the edge's and the GPU's ports", () => {
    const urls = imageUrlCases(where).map((u) => u.url);
    for (const host of [
      "2130706433",
      "0x7f000001",
      "0177.0.0.1",
      "[::ffff:127.0.0.1]",
      "169.254.169.254",
      "10.0.0.1",
    ])
      expect(urls.some((u) => u.includes(`//${host}/`))).toBe(true);
    expect(urls).toContain("https://127.0.0.1:8787/v1/models");
    expect(urls).toContain("https://127.0.0.1:8788/v1/embed/images");
  });

  it("are refused by the edge's own text check where it can tell, and left to the GPU tier where a name must resolve", () => {
    for (const u of imageUrlCases(where)) {
      const verdict = checkImageUrl(u.url, { denyHosts: ["127.0.0.1"] });
      if (u.needsGpu) expect(verdict, u.url).toBeUndefined();
      else expect(verdict, u.url).toBeDefined();
    }
  });
});

describe("planning a bad request", () => {
  it("takes the corpus round-robin, with the answer each case must get", () => {
    const plans = Array.from({ length: corpus.length + 1 }, (_, n) => planBadCase(corpus, n, () => "fresh"));
    expect(plans.map((p) => p.bad?.id)).toEqual([...corpus.map((c) => c.id), corpus[0]?.id]);
    expect(plans.every((p) => p.route === "bad" && p.images === 0)).toBe(true);
    expect(plans[0]?.bad?.expected).toEqual(corpus[0]?.expected);
  });

  it("gives the key-reuse case a valid embeddings prelude, and GETs no Idempotency-Key", () => {
    const n = corpus.findIndex((c) => c.reusesKey);
    const plan = planBadCase(corpus, n, () => "a text never sent");
    expect(plan.prelude).toMatchObject({ route: "embeddings", method: "POST", path: "/v1/embeddings" });
    expect(plan.prelude?.body().body).toBe('{"input":["a text never sent"]}');
    expect(plan.body().body).not.toBe(plan.prelude?.body().body);
    const get = planBadCase(
      corpus,
      corpus.findIndex((c) => c.method === "GET"),
      () => "",
    );
    expect(get.idempotencyHeader).toBeNull();
    const long = planBadCase(
      corpus,
      corpus.findIndex((c) => c.idempotencyHeader),
      () => "",
    );
    expect(long.idempotencyHeader).toHaveLength(300);
  });
});
