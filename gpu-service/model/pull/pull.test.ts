import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type ModelHub, type ModelHubOptions, startModelHub } from "../../../test/support/model-hub.ts";
import {
  differingFiles,
  filesUnder,
  pullForTest,
  type TestPullOptions,
} from "../../../test/support/model-pulls.ts";
import { FP32_LAYOUT, writeFakeClipRepo, writeNotClipRepo } from "../../../test/support/model-repos.ts";
import { freePort } from "../../../test/support/processes.ts";
import type { Outcome, PullSummary } from "./index.ts";

const root = mkdtempSync(join(tmpdir(), "model-pull-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let hub: ModelHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

async function serve(options: ModelHubOptions): Promise<ModelHub> {
  hub = await startModelHub(options);
  return hub;
}

function freshDest(): string {
  return join(mkdtempSync(join(root, "dest-")), "clip");
}

/** A pull of `repo` from `hubUrl` into `dest` in this process. */
async function pull(repo: string, hubUrl: string, dest: string, more: Partial<TestPullOptions> = {}) {
  return (await pullForTest({ repo, hubUrl, dest, ...more })).result;
}

function value(result: Outcome<PullSummary>): PullSummary {
  if (!result.ok) throw new Error(`the pull failed: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

const statuses = (summary: PullSummary) => summary.files.map((f) => f.status);

describe("pullModel against a local Hub", () => {
  it("downloads exactly the layout's files for fp32, byte for byte, and a second run fetches nothing", async () => {
    const source = writeFakeClipRepo(root);
    const { url, requests } = await serve({ repos: [{ id: "fake/clip", dir: source }], treePageSize: 3 });
    const dest = freshDest();

    const first = value(await pull("fake/clip", url, dest));
    expect(filesUnder(dest)).toEqual(FP32_LAYOUT);
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);
    expect(new Set(statuses(first))).toEqual(new Set(["downloaded"]));
    // The decoys (merged model, int8 encoder, README) were never asked for.
    expect(requests.filter((r) => /\/onnx\/model\.onnx|int8|README/.test(r.url))).toEqual([]);
    // The listing was paged (3 entries a page) and every page was read.
    expect(requests.filter((r) => r.url.includes("/tree/")).length).toBeGreaterThan(3);

    const before = requests.length;
    const second = value(await pull("fake/clip", url, dest));
    expect(statuses(second)).toEqual(Array(9).fill("up-to-date"));
    // Neither a file nor config.json's model_type was fetched again: only the commit and the listing were asked.
    expect(requests.slice(before).filter((r) => r.server === "cdn" || r.url.includes("/resolve/"))).toEqual(
      [],
    );
  });

  it("works when the Hub answers the Xet file-info probe", async () => {
    const source = writeFakeClipRepo(root);
    const { url } = await serve({ repos: [{ id: "fake/clip", dir: source }], xet: true });
    const dest = freshDest();
    value(await pull("fake/clip", url, dest));
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);
  });

  it("precision fp16 fetches the fp16 encoders and not the fp32 ones", async () => {
    const source = writeFakeClipRepo(root, { precisions: ["fp32", "fp16"] });
    const { url } = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    const dest = freshDest();
    const summary = value(await pull("fake/clip", url, dest, { precision: "fp16" }));
    const fp16 = ["onnx/text_model_fp16.onnx", "onnx/vision_model_fp16.onnx"];
    expect(filesUnder(dest).filter((p) => p.startsWith("onnx/"))).toEqual(fp16);
    expect(differingFiles(dest, source, fp16)).toEqual([]);
    expect(summary.precision).toBe("fp16");
  });

  it("fails, naming the precisions it has, when the repo lacks the one asked for (no silent fp32)", async () => {
    const { url, requests } = await serve({ repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root) }] });
    const dest = freshDest();
    const result = await pull("fake/clip", url, dest, { precision: "fp16" });
    expect(result).toEqual({
      ok: false,
      error: {
        code: "precision-missing",
        message:
          "fake/clip has no fp16 encoders (onnx/text_model_fp16.onnx, onnx/vision_model_fp16.onnx); " +
          "it has fp32: pass --precision fp32",
      },
    });
    expect(existsSync(dest)).toBe(false);
    expect(requests.some((r) => r.url.includes("/resolve/"))).toBe(false);
  });

  it("resumes an interrupted download with a Range request and ends byte-identical", async () => {
    const source = writeFakeClipRepo(root);
    const fake = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    fake.faults.push({ kind: "drop", path: "onnx/vision_model.onnx", afterBytes: 100_000, times: 1 });
    const dest = freshDest();
    const partial = join(dest, "onnx/vision_model.onnx.partial");

    const first = await pull("fake/clip", fake.url, dest, { retries: 0 });
    expect(first.ok || first.error).toMatchObject({
      code: "interrupted",
      message: expect.stringMatching(
        /^onnx\/vision_model\.onnx: download interrupted at \d+ of \d+ bytes .*run again to resume$/,
      ),
    });
    expect(existsSync(join(dest, "onnx/vision_model.onnx"))).toBe(false);
    const kept = statSync(partial).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(100_000);

    const second = value(await pull("fake/clip", fake.url, dest));
    expect(fake.requests.filter((r) => r.server === "cdn" && r.range === `bytes=${kept}-`)).toHaveLength(1);
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);
    expect(existsSync(partial)).toBe(false);
    expect(second.files.find((f) => f.path === "onnx/vision_model.onnx")?.status).toBe("resumed");
  });

  it("retries an interrupted file within the same run, resuming where it stopped", async () => {
    const source = writeFakeClipRepo(root);
    const fake = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    fake.faults.push({ kind: "drop", path: "onnx/text_model.onnx", afterBytes: 50_000, times: 2 });
    const dest = freshDest();
    value(await pull("fake/clip", fake.url, dest));
    const ranges = fake.requests.filter(
      (r) => r.server === "cdn" && r.range?.endsWith("-") && r.range !== "bytes=0-0",
    );
    expect(ranges.length).toBe(2);
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);
  });

  it("gives up on a stalled response after the stall timeout and resumes on the next attempt", async () => {
    const source = writeFakeClipRepo(root);
    const fake = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    fake.faults.push({ kind: "stall", path: "onnx/vision_model.onnx", afterBytes: 70_000, times: 1 });
    const dest = freshDest();
    const { result, log } = await pullForTest({
      repo: "fake/clip",
      hubUrl: fake.url,
      dest,
      stallTimeoutMs: 500,
    });
    value(result);
    expect(log).toContain("onnx/vision_model.onnx: interrupted");
    expect(fake.requests.filter((r) => r.server === "cdn" && r.range === "bytes=70000-")).toHaveLength(1);
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);
  });

  it("detects a sha256 mismatch and leaves neither the file nor its partial behind", async () => {
    const fake = await serve({ repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root) }] });
    fake.faults.push({ kind: "corrupt", path: "onnx/text_model.onnx" });
    const dest = freshDest();
    const result = await pull("fake/clip", fake.url, dest);
    expect(result.ok || result.error).toMatchObject({
      code: "checksum-mismatch",
      message: expect.stringMatching(
        /^onnx\/text_model\.onnx: sha256 is [0-9a-f]{64}, the Hub lists [0-9a-f]{64}; removed/,
      ),
    });
    expect(existsSync(join(dest, "onnx/text_model.onnx"))).toBe(false);
    expect(existsSync(join(dest, "onnx/text_model.onnx.partial"))).toBe(false);
  });

  it("sends the access token as a Bearer token to the Hub only, and never prints it", async () => {
    const token = "hf_SecretTokenForTests0123456789";
    const source = writeFakeClipRepo(root);
    const fake = await serve({ repos: [{ id: "acme/private-clip", dir: source, private: true }], token });
    const dest = freshDest();

    const anonymous = await pullForTest({ repo: "acme/private-clip", hubUrl: fake.url, dest });
    expect(anonymous.result.ok || anonymous.result.error).toMatchObject({
      code: "repo-not-found",
      message: expect.stringContaining("set HF_TOKEN"),
    });

    fake.requests.length = 0;
    fake.faults.push({ kind: "corrupt", path: "onnx/vision_model.onnx" });
    const options = { repo: "acme/private-clip", hubUrl: fake.url, dest, accessToken: token };
    const failing = await pullForTest(options);
    expect(failing.result.ok).toBe(false);
    fake.faults.length = 0;
    const run = await pullForTest(options);
    value(run.result);
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);

    const toHub = fake.requests.filter((r) => r.server === "hub");
    expect(toHub.length).toBeGreaterThan(0);
    expect(toHub.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
    // The CDN is another origin: fetch drops the header on the redirect.
    expect(fake.requests.filter((r) => r.server === "cdn" && r.authorization !== undefined)).toEqual([]);
    for (const output of [anonymous, failing, run]) expect(JSON.stringify(output)).not.toContain(token);
  });

  it("refuses a repo that is not a CLIP ONNX export, before downloading anything", async () => {
    const fake = await serve({
      repos: [
        { id: "acme/bert", dir: writeNotClipRepo(root) },
        { id: "acme/siglip", dir: writeFakeClipRepo(root, { modelType: "siglip" }) },
      ],
    });
    const dest = freshDest();
    expect(await pull("acme/bert", fake.url, dest)).toEqual({
      ok: false,
      error: {
        code: "not-clip",
        message:
          "acme/bert is not a CLIP ONNX export: it has no onnx/text_model.onnx or onnx/vision_model.onnx " +
          "(expected the Xenova/transformers.js layout, e.g. Xenova/clip-vit-base-patch32)",
      },
    });
    expect(await pull("acme/siglip", fake.url, dest)).toEqual({
      ok: false,
      error: {
        code: "not-clip",
        message: 'acme/siglip is not a CLIP ONNX export: config.json model_type is "siglip"',
      },
    });
    expect(fake.requests.some((r) => r.url.includes(".onnx"))).toBe(false);
    expect(existsSync(dest)).toBe(false);
  });

  it("loads the pulled folder the way the GPU service does, and fails if it would not serve", async () => {
    const { url } = await serve({
      repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root, { preprocessor: { resample: 0 } }) }],
    });
    const result = await pull("fake/clip", url, freshDest());
    expect(result.ok || result.error).toMatchObject({
      code: "invalid-folder",
      message: expect.stringMatching(
        /^downloaded, but the folder does not load: .*preprocessor_config\.json: .*resample/,
      ),
    });
  });

  it("fails clearly for a repo or a revision the Hub does not have", async () => {
    const { url } = await serve({ repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root) }] });
    expect(await pull("fake/missing", url, freshDest())).toEqual({
      ok: false,
      error: {
        code: "repo-not-found",
        message: `fake/missing was not found on ${url}: Repository not found`,
      },
    });
    expect(await pull("fake/clip", url, freshDest(), { revision: "v9" })).toEqual({
      ok: false,
      error: { code: "revision-not-found", message: 'fake/clip has no revision "v9": Invalid rev id: v9' },
    });
  });

  it("says so when the Hub cannot be reached and nothing was pulled before", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    expect(await pull("fake/clip", closed, freshDest())).toEqual({
      ok: false,
      error: { code: "network", message: `cannot reach ${closed}: ECONNREFUSED` },
    });
  });
});
