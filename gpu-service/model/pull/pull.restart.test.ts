import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type ModelHub, type ModelHubOptions, startModelHub } from "../../../test/support/model-hub.ts";
import { differingFiles, pullForTest, type TestPullOptions } from "../../../test/support/model-pulls.ts";
import { FP32_LAYOUT, pseudoRandomBytes, writeFakeClipRepo } from "../../../test/support/model-repos.ts";
import { freePort } from "../../../test/support/processes.ts";
import { type Outcome, type PullSummary, STATE_DIR } from "./index.ts";

// What a pull leaves for the next one: verified files skipped, changed ones re-checked, partials resumed or started
// over, the "complete" marker, and the offline start it allows.

const root = mkdtempSync(join(tmpdir(), "model-pull-restart-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const hubs: ModelHub[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close();
});

async function serve(options: ModelHubOptions): Promise<ModelHub> {
  const hub = await startModelHub(options);
  hubs.push(hub);
  return hub;
}

const ENCODER = "onnx/vision_model.onnx";

/** A fake repo, its Hub, and a folder it was fully pulled into. */
async function pulledFolder(options: Omit<ModelHubOptions, "repos"> = {}) {
  const source = writeFakeClipRepo(root);
  const hub = await serve({ repos: [{ id: "fake/clip", dir: source }], ...options });
  const dest = join(mkdtempSync(join(root, "dest-")), "clip");
  value((await pullForTest({ repo: "fake/clip", hubUrl: hub.url, dest })).result);
  hub.requests.length = 0;
  return { source, hub, dest };
}

function value(result: Outcome<PullSummary>): PullSummary {
  if (!result.ok) throw new Error(`the pull failed: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** The Range of every encoder download from the CDN, in order (the hub library's `bytes=0-0` size probes left out). */
function downloads(hub: ModelHub): (string | undefined)[] {
  return hub.requests.filter((r) => r.server === "cdn" && r.range !== "bytes=0-0").map((r) => r.range);
}

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  bytes[at] = (bytes[at] ?? 0) ^ 0xff;
  writeFileSync(path, bytes);
}

describe("pullModel on a folder pulled before", () => {
  it("trusts files verified earlier and untouched without hashing them, and hashes a touched one again", async () => {
    const { hub, dest } = await pulledFolder();
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dest, ENCODER), later, later);

    const { result, log } = await pullForTest({ repo: "fake/clip", hubUrl: hub.url, dest });
    expect(value(result).fetched).toBe(0);
    expect(log).toContain(`${ENCODER}: already there (verified)\n`);
    expect(log).toContain("onnx/text_model.onnx: already there (verified earlier)\n");
    expect(log.match(/already there \(verified earlier\)/g)).toHaveLength(8);
    expect(hub.requests.filter((r) => r.server === "cdn")).toEqual([]);
  });

  it("fetches again a file changed on disk (same size, one byte flipped), and only that file", async () => {
    const { source, hub, dest } = await pulledFolder();
    flipByte(join(dest, ENCODER), 1234);

    const summary = value((await pullForTest({ repo: "fake/clip", hubUrl: hub.url, dest })).result);
    expect(summary.files.filter((f) => f.status !== "up-to-date")).toEqual([
      { path: ENCODER, size: readFileSync(join(source, ENCODER)).length, status: "downloaded" },
    ]);
    expect(downloads(hub)).toEqual([undefined]);
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);
  });

  it("starts a file over from byte 0 when the partial it resumed does not verify (a partial of another revision)", async () => {
    const source = writeFakeClipRepo(root);
    const hub = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    const dest = join(mkdtempSync(join(root, "dest-")), "clip");
    mkdirSync(join(dest, "onnx"), { recursive: true });
    writeFileSync(join(dest, `${ENCODER}.partial`), pseudoRandomBytes("an older revision", 40_000));

    const { result, log } = await pullForTest({ repo: "fake/clip", hubUrl: hub.url, dest });
    expect(value(result).files.find((f) => f.path === ENCODER)?.status).toBe("downloaded");
    expect(log).toContain(`${ENCODER}: hash mismatch; starting the file over`);
    expect(downloads(hub)).toEqual([
      undefined, // text_model.onnx
      "bytes=40000-",
      undefined,
    ]);
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);
  });

  it("restarts an interrupted file from byte 0 when the server does not answer Range requests", async () => {
    const source = writeFakeClipRepo(root);
    const hub = await serve({ repos: [{ id: "fake/clip", dir: source }], resumes: false });
    hub.faults.push({ kind: "drop", path: ENCODER, afterBytes: 100_000, times: 1 });
    const dest = join(mkdtempSync(join(root, "dest-")), "clip");
    const first = (await pullForTest({ repo: "fake/clip", hubUrl: hub.url, dest, retries: 0 })).result;
    expect(first.ok || first.error.code).toBe("interrupted");
    expect(existsSync(join(dest, `${ENCODER}.partial`))).toBe(true);

    const summary = value((await pullForTest({ repo: "fake/clip", hubUrl: hub.url, dest })).result);
    expect(downloads(hub).at(-1)).toMatch(/^bytes=[1-9]\d*-$/); // asked to resume, answered 200 with the whole file
    expect(summary.files.find((f) => f.path === ENCODER)?.status).toBe("downloaded");
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);
  });

  it("clears only the complete markers of the precisions whose files it changes", async () => {
    const source = writeFakeClipRepo(root, { precisions: ["fp32", "fp16"] });
    const hub = await serve({ repos: [{ id: "fake/clip", dir: source }] });
    const dest = join(mkdtempSync(join(root, "dest-")), "clip");
    const marker = (precision: string) => existsSync(join(dest, STATE_DIR, `complete-${precision}.json`));
    const pull = (precision: "fp32" | "fp16") =>
      pullForTest({ repo: "fake/clip", hubUrl: hub.url, dest, precision, retries: 0 });
    for (const precision of ["fp32", "fp16"] as const) value((await pull(precision)).result);

    // An fp16 encoder changed on disk and its download is cut: fp32's files are untouched, its marker stays.
    flipByte(join(dest, "onnx/vision_model_fp16.onnx"), 99);
    hub.faults.push({ kind: "drop", path: "onnx/vision_model_fp16.onnx", afterBytes: 1000, times: 1 });
    expect((await pull("fp16")).result.ok).toBe(false);
    expect([marker("fp32"), marker("fp16")]).toEqual([true, false]);

    // A file both precisions share is being replaced: neither is complete until a pull of it ends.
    flipByte(join(dest, "tokenizer.json"), 3);
    hub.faults.push({ kind: "drop", path: "tokenizer.json", afterBytes: 10, times: 1 });
    expect((await pull("fp16")).result.ok).toBe(false);
    expect([marker("fp32"), marker("fp16")]).toEqual([false, false]);
  });
});

describe("pullModel without the Hub", () => {
  const offlinePull = (hubUrl: string, dest: string, more: Partial<TestPullOptions> = {}) =>
    pullForTest({ repo: "fake/clip", hubUrl, dest, ...more });

  it("uses a complete, verified folder when offline, asking nothing", async () => {
    const { hub, dest } = await pulledFolder();
    const { result, log } = await offlinePull(hub.url, dest, { offline: true });
    const summary = value(result);
    expect(summary.offline).toBe("offline (HF_HUB_OFFLINE)");
    expect(summary.files.map((f) => f.status)).toEqual(Array(9).fill("up-to-date"));
    expect(log).toContain("using the folder verified at");
    expect(hub.requests).toEqual([]);
  });

  it("uses a complete, verified folder when the Hub cannot be reached", async () => {
    const { dest } = await pulledFolder();
    const closed = `http://127.0.0.1:${await freePort()}`;
    const summary = value((await offlinePull(closed, dest)).result);
    expect(summary.offline).toBe(`cannot reach ${closed}: ECONNREFUSED`);
  });

  it("refuses a folder whose file changed since it was verified", async () => {
    const { dest } = await pulledFolder();
    flipByte(join(dest, "onnx/text_model.onnx"), 10);
    const { result } = await offlinePull("http://127.0.0.1:9", dest, { offline: true });
    expect(result.ok || result.error).toEqual({
      code: "not-complete",
      message: `${dest} holds no complete pull of fake/clip to use offline: onnx/text_model.onnx changed since it was verified`,
    });
  });

  it("refuses a folder of another revision or precision", async () => {
    const { dest } = await pulledFolder();
    const other = await offlinePull("http://127.0.0.1:9", dest, { offline: true, revision: "v2" });
    expect(other.result.ok || other.result.error.message).toContain("it holds revision main (");
    const fp16 = await offlinePull("http://127.0.0.1:9", dest, { offline: true, precision: "fp16" });
    expect(fp16.result.ok || fp16.result.error.message).toContain("no pull of fp16 finished there");
  });

  it("never takes a folder whose pull was interrupted as complete, even one that was complete before", async () => {
    const { dest } = await pulledFolder();
    // The repo moves on: a new commit with another vision encoder; its download is cut off.
    const next = writeFakeClipRepo(root, { encoderBytes: 310_000 });
    const hub = await serve({ repos: [{ id: "fake/clip", dir: next }] });
    hub.faults.push({ kind: "drop", path: ENCODER, afterBytes: 100_000, times: 1 });
    const cut = await offlinePull(hub.url, dest, { retries: 0 });
    expect(cut.result.ok || cut.result.error.code).toBe("interrupted");
    expect(existsSync(join(dest, STATE_DIR, "complete-fp32.json"))).toBe(false);

    const offline = await offlinePull(hub.url, dest, { offline: true });
    expect(offline.result.ok || offline.result.error.message).toContain("no pull of fp32 finished there");
    value((await offlinePull(hub.url, dest)).result);
    expect(differingFiles(dest, next, FP32_LAYOUT)).toEqual([]);
    expect(existsSync(join(dest, STATE_DIR, "complete-fp32.json"))).toBe(true);
  });
});
