import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeFakeClipRepo } from "../../test/support/model-repos.ts";
import { ModelFolderError, readModelFolder } from "./model-folder.ts";
import { STATE_DIR } from "./pull/index.ts";

// A folder a pull wrote into (it has .pull/) is served only once that pull finished for the precision loaded: the
// files of an interrupted pull are each verified, but may come from two commits. A folder assembled by hand (no .pull/,
// like models/tiny-clip) loads as it is.

const root = mkdtempSync(join(tmpdir(), "model-folder-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const marker = (dir: string, precision: string) => join(dir, STATE_DIR, `complete-${precision}.json`);

function writeMarker(dir: string, precision: string): void {
  mkdirSync(join(dir, STATE_DIR), { recursive: true });
  const files = [{ path: "config.json", size: 1, hash: "size-only" }];
  writeFileSync(
    marker(dir, precision),
    JSON.stringify({ repo: "fake/clip", revision: "main", commit: "c0ffee", precision, files }),
  );
}

async function loadError(dir: string, precision: "fp32" | "fp16" = "fp32"): Promise<unknown> {
  return readModelFolder(dir, { precision }).then(
    () => null,
    (error: unknown) => error,
  );
}

describe("readModelFolder and the pull's bookkeeping", () => {
  it("loads a folder with no .pull/ at all (copied by hand)", async () => {
    const dir = writeFakeClipRepo(root);
    expect((await readModelFolder(dir)).precision).toBe("fp32");
  });

  it("refuses a folder whose pull did not finish: .pull/ without the marker of the precision loaded", async () => {
    const dir = writeFakeClipRepo(root, { precisions: ["fp32", "fp16"] });
    mkdirSync(join(dir, STATE_DIR));
    const error = await loadError(dir);
    expect(error).toBeInstanceOf(ModelFolderError);
    expect((error as Error).message).toBe(
      `${dir}: a model pull into this folder did not finish (${STATE_DIR}/complete-fp32.json is missing), so its ` +
        "files may mix two commits; run the pull again (npm run model:pull, or MODEL_PULL) before serving it",
    );

    writeMarker(dir, "fp32");
    expect((await readModelFolder(dir)).precision).toBe("fp32");
    // The fp16 pull into the same folder is another pull: finished for fp32 says nothing about it.
    expect((await loadError(dir, "fp16")) as Error).toBeInstanceOf(ModelFolderError);
    writeMarker(dir, "fp16");
    expect((await readModelFolder(dir, { precision: "fp16" })).precision).toBe("fp16");
  });

  it("does not take an unreadable marker for a finished pull", async () => {
    const dir = writeFakeClipRepo(root);
    mkdirSync(join(dir, STATE_DIR));
    writeFileSync(marker(dir, "fp32"), "{");
    expect(await loadError(dir)).toBeInstanceOf(ModelFolderError);
  });

  it("lets the pull itself check the folder before it writes the marker", async () => {
    const dir = writeFakeClipRepo(root);
    mkdirSync(join(dir, STATE_DIR));
    expect((await readModelFolder(dir, { duringPull: true })).precision).toBe("fp32");
  });
});
