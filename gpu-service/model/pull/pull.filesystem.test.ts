import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type ModelHub, startModelHub } from "../../../test/support/model-hub.ts";
import { pullForTest } from "../../../test/support/model-pulls.ts";
import { writeFakeClipRepo } from "../../../test/support/model-repos.ts";
import { STATE_DIR } from "./index.ts";

// A folder that cannot be written is a failure value with code "filesystem" and one line, never a rejection: the
// container entry turned the rejection into a stack trace and a restart loop. Tests run as root here, so "cannot be
// written" is made with paths that no permission bit can excuse: a file where a folder must be, a folder where a file
// must be, and /dev/full (every write fails with ENOSPC) for a full disk.

const root = mkdtempSync(join(tmpdir(), "model-pull-filesystem-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let hub: ModelHub | undefined;
afterEach(async () => {
  await hub?.close();
  hub = undefined;
});

const ENCODER = "onnx/vision_model.onnx";

async function serve(): Promise<ModelHub> {
  hub = await startModelHub({ repos: [{ id: "fake/clip", dir: writeFakeClipRepo(root) }] });
  return hub;
}

/** A folder to pull into, made by `setup` inside a fresh parent folder. */
function folder(setup: (parent: string) => string): string {
  return setup(mkdtempSync(join(root, "dest-")));
}

/** `dest` with `path` inside it made a directory, where the pull must write a file. */
function directoryAt(path: string) {
  return (parent: string) => {
    const dest = join(parent, "clip");
    mkdirSync(join(dest, path, "in-the-way"), { recursive: true });
    return dest;
  };
}

describe("pullModel on a folder it cannot write", () => {
  it.each([
    [
      "the folder under a file (the lock's mkdir)",
      (parent: string) => {
        writeFileSync(join(parent, "a-file"), "");
        return join(parent, "a-file", "clip");
      },
      /ENOTDIR/,
    ],
    [
      "verified.json a directory (recording a verified file)",
      directoryAt(`${STATE_DIR}/verified.json`),
      /verified\.json/,
    ],
    [
      "the complete marker a directory (clearing it)",
      directoryAt(`${STATE_DIR}/complete-fp32.json`),
      /complete-fp32\.json/,
    ],
  ])("returns a filesystem failure in one line: %s", async (_, setup, names) => {
    const { url } = await serve();
    const { result } = await pullForTest({ repo: "fake/clip", hubUrl: url, dest: folder(setup) });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe("filesystem");
    expect(result.error.message).toMatch(names);
    expect(result.error.message).not.toContain("\n");
  });

  it("returns a filesystem failure when the complete marker cannot be written", async () => {
    const { url } = await serve();
    const dest = folder((parent) => join(parent, "clip"));
    expect((await pullForTest({ repo: "fake/clip", hubUrl: url, dest })).result.ok).toBe(true);
    // Every file is verified: nothing is cleared, and the marker is all that is written.
    const marker = join(dest, STATE_DIR, "complete-fp32.json");
    rmSync(marker);
    mkdirSync(join(marker, "in-the-way"), { recursive: true });
    const { result } = await pullForTest({ repo: "fake/clip", hubUrl: url, dest });
    expect(result.ok || result.error).toMatchObject({
      code: "filesystem",
      message: expect.stringContaining("complete-fp32.json"),
    });
  });

  it("reports a full disk as a filesystem failure, not as an interruption to resume, and does not retry it", async () => {
    const fake = await serve();
    const dest = folder((parent) => {
      const d = join(parent, "clip");
      mkdirSync(join(d, "onnx"), { recursive: true });
      symlinkSync("/dev/full", join(d, `${ENCODER}.partial`));
      return d;
    });
    const { result } = await pullForTest({ repo: "fake/clip", hubUrl: fake.url, dest });
    expect(result.ok || result.error).toMatchObject({
      code: "filesystem",
      message: expect.stringMatching(/^onnx\/vision_model\.onnx: cannot write .*ENOSPC/),
    });
    expect(result.ok || result.error.message).not.toContain("resume");
    const downloads = fake.requests.filter((r) => r.served === ENCODER && r.range !== "bytes=0-0");
    expect(downloads).toHaveLength(1);
    expect(existsSync(join(dest, ENCODER))).toBe(false);
  });
});
