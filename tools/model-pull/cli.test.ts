import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type ModelHub, startModelHub } from "../../test/support/model-hub.ts";
import { writeFakeClipRepo } from "../../test/support/model-repos.ts";

const cli = new URL("./cli.ts", import.meta.url).pathname;

// Async spawn: the fake Hub runs in this process and must keep answering while the CLI runs.
function run(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? "", ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

const root = mkdtempSync(join(tmpdir(), "model-pull-cli-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let hub: ModelHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

describe("tools/model-pull/cli.ts (npm run model:pull)", () => {
  it("exits 0 after a pull and 1 with a one-line reason on failure", async () => {
    hub = await startModelHub({
      repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root, { encoderBytes: 20_000 }) }],
    });
    const dest = join(root, "clip");

    const ok = await run(["fake/clip", "--dest", dest], { HF_ENDPOINT: hub.url });
    expect(ok.stderr).not.toContain("model:pull:");
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain(`Serve it: MODEL_DIR=${dest} npm start`);
    expect(existsSync(join(dest, "onnx/vision_model.onnx"))).toBe(true);

    const missing = await run(["fake/nope", "--dest", dest, "--hub-url", hub.url]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe(`model:pull: fake/nope was not found on ${hub.url}: Repository not found\n`);
  });

  it("makes --retries the number of retries (0: an interrupted file fails the run)", async () => {
    hub = await startModelHub({
      repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root, { encoderBytes: 20_000 }) }],
    });
    hub.faults.push({ kind: "drop", path: "onnx/vision_model.onnx", afterBytes: 5_000, times: 1 });
    const dest = join(root, "no-retries");
    const cut = await run(["fake/clip", "--dest", dest, "--retries", "0", "--hub-url", hub.url]);
    expect(cut.status).toBe(1);
    expect(cut.stderr).toMatch(
      /model:pull: onnx\/vision_model\.onnx: download interrupted at .*run again to resume\n$/,
    );
  });

  it("prints usage with --help", async () => {
    const help = await run(["--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: npm run model:pull -- <repo id>");
  });
});
