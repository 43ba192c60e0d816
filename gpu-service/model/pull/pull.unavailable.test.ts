import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type ModelHub, startModelHub } from "../../../test/support/model-hub.ts";
import { differingFiles, pullForTest, type TestPullOptions } from "../../../test/support/model-pulls.ts";
import { FP32_LAYOUT, writeFakeClipRepo } from "../../../test/support/model-repos.ts";
import type { Outcome, PullSummary } from "./index.ts";

// A Hub that is busy (408, 429, 5xx) or hangs is no reason to stop: a verified folder serves, a download is retried,
// and with nothing to fall back on the failure says it is worth retrying. Before, a fleet restarting together was
// answered 429, took it for a permanent "hub-error" and exited at every restart, verified folder or not.

const root = mkdtempSync(join(tmpdir(), "model-pull-unavailable-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const hubs: ModelHub[] = [];
afterEach(async () => {
  for (const hub of hubs.splice(0)) await hub.close();
});

const ENCODER = "onnx/vision_model.onnx";

async function serve(): Promise<{ hub: ModelHub; source: string }> {
  const source = writeFakeClipRepo(root);
  const hub = await startModelHub({ repos: [{ id: "fake/clip", dir: source }] });
  hubs.push(hub);
  return { hub, source };
}

const freshDest = () => join(mkdtempSync(join(root, "dest-")), "clip");

async function pull(hub: ModelHub, dest: string, more: Partial<TestPullOptions> = {}) {
  return (await pullForTest({ repo: "fake/clip", hubUrl: hub.url, dest, ...more })).result;
}

function value(result: Outcome<PullSummary>): PullSummary {
  if (!result.ok) throw new Error(`the pull failed: ${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** The CDN's downloads of `path`, the hub library's `bytes=0-0` size probes left out. */
const downloadsOf = (hub: ModelHub, path: string) =>
  hub.requests.filter((r) => r.server === "cdn" && r.served === path && r.range !== "bytes=0-0");

describe("pullModel when the Hub is busy", () => {
  it.each([429, 408, 503])("starts on the verified folder when the Hub answers %i", async (status) => {
    const { hub } = await serve();
    const dest = freshDest();
    value(await pull(hub, dest));
    hub.faults.push({ kind: "api-status", endpoint: "revision", status, times: 1 });

    const summary = value(await pull(hub, dest));
    expect(summary.offline).toMatch(new RegExp(`^fake/clip: the Hub answered ${status}`));
    expect(summary.files.map((f) => f.status)).toEqual(Array(9).fill("up-to-date"));
  });

  it("fails as hub-unavailable, worth retrying, when the Hub answers 429 and nothing was verified before", async () => {
    const { hub } = await serve();
    hub.faults.push({ kind: "api-status", endpoint: "tree", status: 429, times: 1 });
    const result = await pull(hub, freshDest());
    expect(result.ok || result.error).toMatchObject({
      code: "hub-unavailable",
      message: expect.stringMatching(/^fake\/clip: the Hub answered 429/),
    });
  });

  it("retries a download the CDN answers 429 or 503, honouring Retry-After up to its cap, and ends byte-identical", async () => {
    const { hub, source } = await serve();
    hub.faults.push({ kind: "status", path: ENCODER, status: 429, times: 1, retryAfter: "3600" });
    hub.faults.push({ kind: "status", path: ENCODER, status: 503, times: 1 });
    const dest = freshDest();
    const { result, log } = await pullForTest({
      repo: "fake/clip",
      hubUrl: hub.url,
      dest,
      retryAfterCapMs: 200,
    });
    value(result);
    expect(downloadsOf(hub, ENCODER)).toHaveLength(3);
    // Retry-After's hour, cut to the cap; then, without one, the doubled retryDelayMs (10 ms, 20 ms).
    expect(log).toContain(`${ENCODER}: retry 1 of 3 in 0.2 s: the download answered 429 Too Many Requests\n`);
    expect(log).toContain(
      `${ENCODER}: retry 2 of 3 in 0.0 s: the download answered 503 Service Unavailable\n`,
    );
    expect(differingFiles(dest, source, FP32_LAYOUT)).toEqual([]);
  });

  it("gives up on a download after its retries, as hub-unavailable", async () => {
    const { hub } = await serve();
    hub.faults.push({ kind: "status", path: ENCODER, status: 502, times: 10 });
    const result = await pull(hub, freshDest(), { retries: 2 });
    expect(result.ok || result.error).toMatchObject({
      code: "hub-unavailable",
      message: expect.stringMatching(/^onnx\/vision_model\.onnx: the download answered 502/),
    });
    expect(downloadsOf(hub, ENCODER)).toHaveLength(3);
  });
});

describe("pullModel when the Hub hangs", () => {
  it("gives up on a metadata request after requestTimeoutMs and starts on the verified folder", async () => {
    const { hub } = await serve();
    const dest = freshDest();
    value(await pull(hub, dest));
    hub.faults.push({ kind: "api-hang", endpoint: "revision", times: 1 });

    const summary = value(await pull(hub, dest, { requestTimeoutMs: 200 }));
    expect(summary.offline).toBe(`fake/clip: no answer from ${hub.url} within 0.2 s`);
  });

  it("fails as hub-unavailable when the listing hangs and nothing was verified before", async () => {
    const { hub } = await serve();
    hub.faults.push({ kind: "api-hang", endpoint: "tree", times: 1 });
    const result = await pull(hub, freshDest(), { requestTimeoutMs: 200 });
    expect(result.ok || result.error).toEqual({
      code: "hub-unavailable",
      message: `fake/clip: no answer from ${hub.url} within 0.2 s`,
    });
  });
});
