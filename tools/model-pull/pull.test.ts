import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { main } from "./main.ts";
import { writeFakeClipRepo, writeNotClipRepo } from "./test-support/fake-clip-repo.ts";
import { type FakeHub, type FakeHubOptions, startFakeHub } from "./test-support/fake-hub.ts";

const LAYOUT_FP32 = [
  "config.json",
  "merges.txt",
  "onnx/text_model.onnx",
  "onnx/vision_model.onnx",
  "preprocessor_config.json",
  "special_tokens_map.json",
  "tokenizer.json",
  "tokenizer_config.json",
  "vocab.json",
];

const root = mkdtempSync(join(tmpdir(), "model-pull-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let hub: FakeHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

async function serve(options: FakeHubOptions): Promise<FakeHub> {
  hub = await startFakeHub(options);
  return hub;
}

/** Runs `npm run model:pull -- <args>` in-process against the fake hub; returns exit code and both outputs. */
async function pull(args: string[], env: Record<string, string> = {}, stallTimeoutMs = 5_000) {
  let stdout = "";
  let stderr = "";
  const code = await main(
    args,
    env,
    {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
    },
    { retryDelayMs: 10, stallTimeoutMs },
  );
  return { code, stdout, stderr };
}

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function freshDest(): string {
  return join(mkdtempSync(join(root, "dest-")), "clip");
}

function filesUnder(dir: string): string[] {
  const walk = (at: string): string[] =>
    readdirSync(at, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(at, e.name)) : [relative(dir, join(at, e.name))],
    );
  return walk(dir).sort();
}

function expectSameBytes(dest: string, source: string, paths: string[]): void {
  for (const path of paths)
    expect(readFileSync(join(dest, path)).equals(readFileSync(join(source, path))), path).toBe(true);
}

describe("npm run model:pull against a local Hub", () => {
  it("downloads exactly the layout's files for fp32, byte for byte, and a second run fetches nothing", async () => {
    const source = writeFakeClipRepo(root);
    const { url, requests } = await serve({ repos: [{ id: "fake/clip", dir: source }], treePageSize: 3 });
    const dest = freshDest();

    const first = await pull(["fake/clip", "--hub-url", url, "--dest", dest]);
    expect(first.stderr).not.toContain("model:pull:");
    expect(first.code).toBe(0);
    expect(filesUnder(dest)).toEqual(LAYOUT_FP32);
    expectSameBytes(dest, source, LAYOUT_FP32);
    expect(first.stdout).toContain("Pulled fake/clip at ");
    expect(first.stdout).toContain(`Serve it: MODEL_DIR=${dest} npm start`);
    // The decoys (merged model, int8 encoder, README) were never asked for.
    expect(requests.filter((r) => /\/onnx\/model\.onnx|int8|README/.test(r.url))).toEqual([]);
    // The listing was paged (3 entries a page) and every page was read.
    expect(requests.filter((r) => r.url.includes("/tree/")).length).toBeGreaterThan(3);

    const before = requests.length;
    const second = await pull(["fake/clip", "--hub-url", url, "--dest", dest]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain("9 already there");
    expect(requests.slice(before).filter((r) => r.server === "cdn")).toEqual([]);
  });

  it("follows HF_ENDPOINT and works when the Hub answers the Xet file-info probe", async () => {
    const source = writeFakeClipRepo(root);
    const { url } = await serve({ repos: [{ id: "fake/clip", dir: source }], xet: true });
    const dest = freshDest();
    const run = await pull(["fake/clip", "--dest", dest], { HF_ENDPOINT: `${url}/` });
    expect(run.code).toBe(0);
    expectSameBytes(dest, source, LAYOUT_FP32);
  });

  it("--precision fp16 fetches the fp16 encoders and not the fp32 ones", async () => {
    const source = writeFakeClipRepo(root, { precisions: ["fp32", "fp16"] });
    const { url } = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    const dest = freshDest();
    const run = await pull(["fake/clip", "--hub-url", url, "--dest", dest, "--precision", "fp16"]);
    expect(run.code).toBe(0);
    const fp16 = ["onnx/text_model_fp16.onnx", "onnx/vision_model_fp16.onnx"];
    expect(filesUnder(dest).filter((p) => p.startsWith("onnx/"))).toEqual(fp16);
    expectSameBytes(dest, source, fp16);
    expect(run.stdout).toContain("MODEL_PRECISION=fp16 npm start");
  });

  it("fails, naming the precisions it has, when the repo lacks the one asked for (no silent fp32)", async () => {
    const { url, requests } = await serve({ repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root) }] });
    const dest = freshDest();
    const run = await pull(["fake/clip", "--hub-url", url, "--dest", dest, "--precision", "fp16"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "model:pull: fake/clip has no fp16 encoders (onnx/text_model_fp16.onnx, onnx/vision_model_fp16.onnx); " +
        "it has fp32: pass --precision fp32\n",
    );
    expect(existsSync(dest)).toBe(false);
    expect(requests.some((r) => r.url.includes("/resolve/"))).toBe(false);
  });

  it("resumes an interrupted download with a Range request and ends byte-identical", async () => {
    const source = writeFakeClipRepo(root);
    const fake = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    fake.faults.push({ kind: "drop", path: "onnx/vision_model.onnx", afterBytes: 100_000, times: 1 });
    const dest = freshDest();
    const partial = join(dest, "onnx/vision_model.onnx.partial");

    const first = await pull(["fake/clip", "--hub-url", fake.url, "--dest", dest, "--retries", "0"]);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(
      /model:pull: onnx\/vision_model\.onnx: download interrupted at \d+ of \d+ bytes .*run again to resume\n$/,
    );
    expect(existsSync(join(dest, "onnx/vision_model.onnx"))).toBe(false);
    const kept = statSync(partial).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(100_000);

    const second = await pull(["fake/clip", "--hub-url", fake.url, "--dest", dest]);
    expect(second.code).toBe(0);
    expect(fake.requests.filter((r) => r.server === "cdn" && r.range === `bytes=${kept}-`)).toHaveLength(1);
    expectSameBytes(dest, source, LAYOUT_FP32);
    expect(existsSync(partial)).toBe(false);
    expect(second.stdout).toContain("1 resumed");
  });

  it("retries an interrupted file within the same run, resuming where it stopped", async () => {
    const source = writeFakeClipRepo(root);
    const fake = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    fake.faults.push({ kind: "drop", path: "onnx/text_model.onnx", afterBytes: 50_000, times: 2 });
    const dest = freshDest();
    const run = await pull(["fake/clip", "--hub-url", fake.url, "--dest", dest]);
    expect(run.code).toBe(0);
    const ranges = fake.requests.filter(
      (r) => r.server === "cdn" && r.range?.endsWith("-") && r.range !== "bytes=0-0",
    );
    expect(ranges.length).toBe(2);
    expectSameBytes(dest, source, LAYOUT_FP32);
  });

  it("gives up on a stalled response after the stall timeout and resumes on the next attempt", async () => {
    const source = writeFakeClipRepo(root);
    const fake = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    fake.faults.push({ kind: "stall", path: "onnx/vision_model.onnx", afterBytes: 70_000, times: 1 });
    const dest = freshDest();
    const run = await pull(["fake/clip", "--hub-url", fake.url, "--dest", dest], {}, 500);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("onnx/vision_model.onnx: interrupted");
    expect(fake.requests.filter((r) => r.server === "cdn" && r.range === "bytes=70000-")).toHaveLength(1);
    expectSameBytes(dest, source, LAYOUT_FP32);
  });

  it("detects a sha256 mismatch and leaves neither the file nor its partial behind", async () => {
    const fake = await serve({ repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root) }] });
    fake.faults.push({ kind: "corrupt", path: "onnx/text_model.onnx" });
    const dest = freshDest();
    const run = await pull(["fake/clip", "--hub-url", fake.url, "--dest", dest]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n").at(-1)).toMatch(
      /^model:pull: onnx\/text_model\.onnx: sha256 is [0-9a-f]{64}, the Hub lists [0-9a-f]{64}; removed/,
    );
    expect(existsSync(join(dest, "onnx/text_model.onnx"))).toBe(false);
    expect(existsSync(join(dest, "onnx/text_model.onnx.partial"))).toBe(false);
  });

  it("sends HF_TOKEN as a Bearer token to the Hub only, and never prints it", async () => {
    const token = "hf_SecretTokenForTests0123456789";
    const source = writeFakeClipRepo(root);
    const fake = await serve({ repos: [{ id: "acme/private-clip", dir: source, private: true }], token });
    const dest = freshDest();

    const anonymous = await pull(["acme/private-clip", "--hub-url", fake.url, "--dest", dest]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain("acme/private-clip was not found");
    expect(anonymous.stderr).toContain("set HF_TOKEN");

    fake.requests.length = 0;
    fake.faults.push({ kind: "corrupt", path: "onnx/vision_model.onnx" });
    const failing = await pull(["acme/private-clip", "--hub-url", fake.url, "--dest", dest], {
      HF_TOKEN: token,
    });
    expect(failing.code).toBe(1);
    fake.faults.length = 0;
    const run = await pull(["acme/private-clip", "--hub-url", fake.url, "--dest", dest], { HF_TOKEN: token });
    expect(run.code).toBe(0);
    expectSameBytes(dest, source, LAYOUT_FP32);

    const toHub = fake.requests.filter((r) => r.server === "hub");
    expect(toHub.length).toBeGreaterThan(0);
    expect(toHub.every((r) => r.authorization === `Bearer ${token}`)).toBe(true);
    // The CDN is another origin: fetch drops the header on the redirect.
    expect(fake.requests.filter((r) => r.server === "cdn" && r.authorization !== undefined)).toEqual([]);
    for (const output of [anonymous, failing, run])
      expect(output.stdout + output.stderr).not.toContain(token);
  });

  it("refuses a repo that is not a CLIP ONNX export, before downloading anything", async () => {
    const fake = await serve({
      repos: [
        { id: "acme/bert", dir: writeNotClipRepo(root) },
        { id: "acme/siglip", dir: writeFakeClipRepo(root, { modelType: "siglip" }) },
      ],
    });
    const dest = freshDest();
    const bert = await pull(["acme/bert", "--hub-url", fake.url, "--dest", dest]);
    expect(bert.code).toBe(1);
    expect(bert.stderr).toBe(
      "model:pull: acme/bert is not a CLIP ONNX export: it has no onnx/text_model.onnx or onnx/vision_model.onnx " +
        "(expected the Xenova/transformers.js layout, e.g. Xenova/clip-vit-base-patch32)\n",
    );
    const siglip = await pull(["acme/siglip", "--hub-url", fake.url, "--dest", dest]);
    expect(siglip.code).toBe(1);
    expect(siglip.stderr).toBe(
      'model:pull: acme/siglip is not a CLIP ONNX export: config.json model_type is "siglip"\n',
    );
    expect(fake.requests.some((r) => r.url.includes(".onnx"))).toBe(false);
    expect(existsSync(dest)).toBe(false);
  });

  it("loads the pulled folder the way the GPU service does, and fails if it would not serve", async () => {
    const { url } = await serve({
      repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root, { preprocessor: { resample: 0 } }) }],
    });
    const run = await pull(["fake/clip", "--hub-url", url, "--dest", freshDest()]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n").at(-1)).toMatch(
      /^model:pull: downloaded, but the folder does not load: .*preprocessor_config\.json: .*resample/,
    );
  });

  it("fails clearly for a repo or a revision the Hub does not have", async () => {
    const { url } = await serve({ repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root) }] });
    const missing = await pull(["fake/missing", "--hub-url", url, "--dest", freshDest()]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`model:pull: fake/missing was not found on ${url}: Repository not found\n`);
    const badRevision = await pull([
      "fake/clip",
      "--hub-url",
      url,
      "--dest",
      freshDest(),
      "--revision",
      "v9",
    ]);
    expect(badRevision.code).toBe(1);
    expect(badRevision.stderr).toBe('model:pull: fake/clip has no revision "v9": Invalid rev id: v9\n');
  });

  it("says so when the Hub cannot be reached", async () => {
    const closed = `http://127.0.0.1:${await unusedPort()}`;
    const run = await pull(["fake/clip", "--hub-url", closed, "--dest", freshDest()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`model:pull: cannot reach ${closed}: ECONNREFUSED\n`);
  });
});
