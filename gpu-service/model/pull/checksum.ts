import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { RepoFile } from "./layout.ts";

/**
 * Hashes a file's bytes as they arrive and compares the result with what the Hub listed: the LFS sha256 for large
 * files, the git blob id for small ones. A file the Hub gave no hash for is checked by size alone.
 */
export class ContentCheck {
  readonly #expected: { algorithm: "sha256" | "git-sha1"; hex: string } | null;
  #hash: Hash | null = null;
  readonly file: RepoFile;

  constructor(file: RepoFile) {
    this.file = file;
    if (file.sha256) this.#expected = { algorithm: "sha256", hex: file.sha256.toLowerCase() };
    else if (file.gitBlobId) this.#expected = { algorithm: "git-sha1", hex: file.gitBlobId.toLowerCase() };
    else this.#expected = null;
    this.reset();
  }

  /** Starts over, for when the server ignored our Range request and sent the file from byte 0. */
  reset(): void {
    if (this.#expected === null) return;
    if (this.#expected.algorithm === "sha256") this.#hash = createHash("sha256");
    else this.#hash = createHash("sha1").update(`blob ${this.file.size}\0`);
  }

  update(chunk: Uint8Array): void {
    this.#hash?.update(chunk);
  }

  /** Feeds bytes already on disk (a partial download, or a file from an earlier pull). */
  async updateFromFile(path: string): Promise<void> {
    if (this.#hash === null) return;
    for await (const chunk of createReadStream(path)) this.#hash.update(chunk as Buffer);
  }

  /** What was (or will be) compared, for the progress line: "sha256", "git blob id" or "size only". */
  describe(): string {
    if (this.#expected === null) return "size only";
    return this.#expected.algorithm === "sha256" ? "sha256" : "git blob id";
  }

  /** null when the content matches (or nothing was listed to compare with), else why it does not. */
  mismatch(): string | null {
    if (this.#expected === null || this.#hash === null) return null;
    const actual = this.#hash.digest("hex");
    return actual === this.#expected.hex
      ? null
      : `${this.#expected.algorithm} is ${actual}, the Hub lists ${this.#expected.hex}`;
  }
}

/**
 * The listed content of a file as one string, for the pull's manifest: "sha256:<hex>", "git-sha1:<hex>" or
 * "size-only". Two listings of the same path name the same bytes exactly when these strings are equal.
 *
 * @example expectedHash({ path: "onnx/text_model.onnx", size: 3, sha256: "AB…" }) // "sha256:ab…"
 */
export function expectedHash(file: RepoFile): string {
  if (file.sha256) return `sha256:${file.sha256.toLowerCase()}`;
  if (file.gitBlobId) return `git-sha1:${file.gitBlobId.toLowerCase()}`;
  return "size-only";
}

/** The inverse of expectedHash: a listing entry to check a file against, from what a manifest recorded. */
export function repoFileOf(path: string, size: number, hash: string): RepoFile {
  if (hash.startsWith("sha256:")) return { path, size, sha256: hash.slice("sha256:".length) };
  if (hash.startsWith("git-sha1:")) return { path, size, gitBlobId: hash.slice("git-sha1:".length) };
  return { path, size };
}

/** Whether the file at `path` has the size and content the listing gives for `file`. */
export async function fileMatches(file: RepoFile, path: string, size: number): Promise<boolean> {
  if (size !== file.size) return false;
  const check = new ContentCheck(file);
  await check.updateFromFile(path);
  return check.mismatch() === null;
}
