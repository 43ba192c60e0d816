import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { TEST_SECRET } from "../test/support/gpu-service.ts";
import { type ModelHub, startModelHub } from "../test/support/model-hub.ts";
import {
  differingFiles,
  type NodeProcess,
  pullForTest,
  startContainerEntry,
} from "../test/support/model-pulls.ts";
import { FP32_LAYOUT, TINY_CLIP_REPO } from "../test/support/model-repos.ts";
import { freePort, groupAlive, killGroup } from "../test/support/processes.ts";
import { waitFor } from "../test/support/wait.ts";
import { STATE_DIR } from "./model/pull/index.ts";

// The image's entry point with MODEL_PULL: it pulls at every start, in-process, and serves what it pulled. Before,
// a container killed mid-download found config.json on its restart, skipped the pull and exited 2 at every start.

const root = mkdtempSync(join(tmpdir(), "container-entry-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ENCODER = "onnx/vision_model.onnx";
let hub: ModelHub | undefined;
const processes: NodeProcess[] = [];
afterEach(async () => {
  for (const { child } of processes.splice(0)) killGroup(child.pid as number);
  await hub?.close();
  hub = undefined;
});

function entry(env: Record<string, string>): NodeProcess {
  const started = startContainerEntry({
    GPU_SHARED_SECRET: TEST_SECRET,
    PORT: "0",
    BATCH_SIZES: "1,4",
    MODEL_PULL: TINY_CLIP_REPO.id,
    MODEL_PULL_REVISION: "",
    MODEL_PRECISION: "fp32",
    HF_TOKEN: "",
    HF_HUB_OFFLINE: "",
    ...env,
  });
  processes.push(started);
  return started;
}

/** Waits until the service is ready, checks /readyz, then stops it with SIGTERM; returns its exit code. */
async function readyThenStop(started: NodeProcess): Promise<number | null> {
  const [, url] = await started.waitForOutput(/listening on (http:\/\/[^;\s]+)[\s\S]*ready after/);
  expect((await fetch(`${url}/readyz`)).status).toBe(200);
  started.child.kill("SIGTERM");
  return started.exited;
}

describe("gpu-service/container-entry.ts with MODEL_PULL", () => {
  it("after a kill mid-download, resumes the pull at the next start and serves the model", async () => {
    hub = await startModelHub({ repos: [TINY_CLIP_REPO] });
    let reached!: () => void;
    const cut = new Promise<void>((resolve) => (reached = resolve));
    hub.faults.push({ kind: "stall", path: ENCODER, afterBytes: 1_000_000, times: 1, reached });
    const dest = join(root, "killed");
    const env = { HF_ENDPOINT: hub.url, MODEL_DIR: dest };

    const first = entry(env);
    await cut;
    const partial = join(dest, `${ENCODER}.partial`);
    await waitFor("the partial file", () => statSync(partial, { throwIfNoEntry: false })?.size === 1_000_000);
    killGroup(first.child.pid as number); // the container is killed: every process in it
    await first.exited;
    await waitFor(
      "every process of the killed container to be gone",
      () => !groupAlive(first.child.pid as number),
    );
    expect(existsSync(join(dest, "config.json"))).toBe(true); // what made the old entry skip its pull

    const second = entry(env);
    expect(await readyThenStop(second)).toBe(0);
    expect(hub.requests.filter((r) => r.served === ENCODER && r.range === "bytes=1000000-")).toHaveLength(1);
    expect(differingFiles(dest, TINY_CLIP_REPO.dir, FP32_LAYOUT)).toEqual([]);
    expect(second.output()).toContain(`${dest} holds ${TINY_CLIP_REPO.id} at `);
  });

  it("warns once that a branch is not pinned, and not when MODEL_PULL_REVISION is a commit", async () => {
    hub = await startModelHub({ repos: [TINY_CLIP_REPO] });
    const dest = join(root, "pinned");
    const onMain = entry({ HF_ENDPOINT: hub.url, MODEL_DIR: dest });
    expect(await readyThenStop(onMain)).toBe(0);
    const [warning, commit] =
      /warning: MODEL_PULL_REVISION main is not a commit.*MODEL_PULL_REVISION=([0-9a-f]{40})/.exec(
        onMain.output(),
      ) ?? [];
    expect(warning).toBeDefined();
    expect(onMain.output().match(/warning: MODEL_PULL_REVISION/g)).toHaveLength(1);

    const pinned = entry({ HF_ENDPOINT: hub.url, MODEL_DIR: dest, MODEL_PULL_REVISION: commit as string });
    expect(await readyThenStop(pinned)).toBe(0);
    expect(pinned.output()).not.toContain("warning: MODEL_PULL_REVISION");
  });

  it("starts on the folder it verified when the Hub cannot be reached", async () => {
    hub = await startModelHub({ repos: [TINY_CLIP_REPO] });
    const dest = join(root, "offline");
    const pulled = await pullForTest({ repo: TINY_CLIP_REPO.id, hubUrl: hub.url, dest });
    expect(pulled.result.ok).toBe(true);
    const closed = `http://127.0.0.1:${await freePort()}`;

    const started = entry({ HF_ENDPOINT: closed, MODEL_DIR: dest });
    expect(await readyThenStop(started)).toBe(0);
    expect(started.output()).toContain(`without the Hub (cannot reach ${closed}: ECONNREFUSED)`);
  });

  it("exits 1 when the pull fails and nothing verified is there, and 2 for a MODEL_PULL that is no repo id", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const failing = entry({ HF_ENDPOINT: closed, MODEL_DIR: join(root, "never") });
    expect(await failing.exited).toBe(1);
    expect(failing.output()).toContain(
      `gpu-service: the model pull failed: cannot reach ${closed}: ECONNREFUSED (worth retrying`,
    );

    const bad = entry({ MODEL_PULL: "not-a-repo", MODEL_DIR: join(root, "never") });
    expect(await bad.exited).toBe(2);
    expect(bad.output()).toContain(
      'gpu-service: "not-a-repo" is not a MODEL_PULL repo id of the form owner/name',
    );
  });

  it("exits 2, a configuration error, when restarting cannot help: a missing repo, offline with nothing verified", async () => {
    hub = await startModelHub({ repos: [TINY_CLIP_REPO] });
    const missing = entry({
      HF_ENDPOINT: hub.url,
      MODEL_PULL: "clip-edge/nope",
      MODEL_DIR: join(root, "nope"),
    });
    expect(await missing.exited).toBe(2);
    expect(missing.output()).toContain(
      `gpu-service: the model pull failed: clip-edge/nope was not found on ${hub.url}: Repository not found ` +
        "(a configuration error: restarting will not help)",
    );

    const offline = entry({ HF_ENDPOINT: hub.url, HF_HUB_OFFLINE: "1", MODEL_DIR: join(root, "nothing") });
    expect(await offline.exited).toBe(2);
    expect(offline.output()).toContain("holds no complete pull of clip-edge/tiny-clip to use offline");
  });

  it("exits 2 with one line, no stack trace, when MODEL_DIR cannot be written", async () => {
    hub = await startModelHub({ repos: [TINY_CLIP_REPO] });
    const file = join(root, "a-file");
    writeFileSync(file, "");
    const started = entry({ HF_ENDPOINT: hub.url, MODEL_DIR: join(file, "clip") });
    expect(await started.exited).toBe(2);
    expect(started.output()).toMatch(
      /gpu-service: the model pull failed: .*ENOTDIR.*\(a configuration error/,
    );
    expect(started.output()).not.toMatch(/^\s+at /m);
  });
});

describe("gpu-service/container-entry.ts without MODEL_PULL", () => {
  it("refuses, with exit 2, a folder whose pull did not finish, and serves it once the pull has", async () => {
    hub = await startModelHub({ repos: [TINY_CLIP_REPO] });
    const dest = join(root, "half-pulled");
    expect((await pullForTest({ repo: TINY_CLIP_REPO.id, hubUrl: hub.url, dest })).result.ok).toBe(true);
    // What an interrupted `npm run model:pull` leaves: .pull/ without the marker, which is removed before changes.
    const marker = join(dest, STATE_DIR, "complete-fp32.json");
    rmSync(marker);

    const refused = entry({ MODEL_PULL: "", MODEL_DIR: dest });
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toContain(`gpu-service: ${dest}: a model pull into this folder did not finish`);

    expect((await pullForTest({ repo: TINY_CLIP_REPO.id, hubUrl: hub.url, dest })).result.ok).toBe(true);
    expect(existsSync(marker)).toBe(true);
    expect(await readyThenStop(entry({ MODEL_PULL: "", MODEL_DIR: dest }))).toBe(0);
  });
});
