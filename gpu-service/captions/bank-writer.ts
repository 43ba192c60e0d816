import { randomBytes } from "node:crypto";
import { type FileHandle, mkdir, open, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { float32ToFloat16 } from "../../src/vector/index.ts";
import {
  BANK_FORMAT,
  BANK_VERSION,
  type BankManifest,
  type BankModel,
  EMBEDDINGS_FILE,
  MANIFEST_FILE,
  TEXTS_FILE,
} from "./bank-format.ts";

// Float16 keeps ~3 significant digits, and encoders differ in how exactly they normalise; a row further than this
// from unit length was not normalised at all.
const UNIT_TOLERANCE = 1e-2;

/**
 * Writes a caption bank in appended slices, into a temporary sibling folder that replaces `dir` only on
 * {@link commit}: a reader never sees half a bank, and a failed build leaves the previous bank in place.
 * Memory stays at one slice, so a bank may be far larger than RAM.
 *
 * @example
 * const writer = await CaptionBankWriter.create("models/tiny-clip/captions", { model, dim: 64 });
 * await writer.append(["a red circle", "two blue stars"], unitRows); // unitRows: 2 × 64 Float32Array
 * await writer.commit();
 */
export class CaptionBankWriter {
  readonly dir: string;
  readonly tempDir: string;
  private readonly model: BankModel;
  private readonly dim: number;
  private readonly embeddings: FileHandle;
  private readonly texts: FileHandle;
  private count = 0;
  private closed = false;

  private constructor(
    dir: string,
    tempDir: string,
    options: { model: BankModel; dim: number },
    files: { embeddings: FileHandle; texts: FileHandle },
  ) {
    this.dir = dir;
    this.tempDir = tempDir;
    this.model = options.model;
    this.dim = options.dim;
    this.embeddings = files.embeddings;
    this.texts = files.texts;
  }

  static async create(dir: string, options: { model: BankModel; dim: number }): Promise<CaptionBankWriter> {
    const target = resolve(dir);
    await mkdir(dirname(target), { recursive: true });
    // A sibling, so the final rename stays on one file system and is atomic.
    const tempDir = join(dirname(target), `.${basename(target)}.building-${randomBytes(4).toString("hex")}`);
    await mkdir(tempDir);
    const embeddings = await open(join(tempDir, EMBEDDINGS_FILE), "w");
    const texts = await open(join(tempDir, TEXTS_FILE), "w");
    return new CaptionBankWriter(target, tempDir, options, { embeddings, texts });
  }

  /** Captions written so far. */
  get size(): number {
    return this.count;
  }

  /**
   * Appends captions and their unit-length embeddings (`texts.length × dim`, row-major). A caption with a line break
   * or a row that is not unit length is a bug in the caller, so it throws.
   */
  async append(texts: readonly string[], rows: Float32Array): Promise<void> {
    if (this.closed) throw new Error("CaptionBankWriter: append after commit or abort");
    if (rows.length !== texts.length * this.dim)
      throw new RangeError(
        `append: ${texts.length} captions need ${texts.length * this.dim} values, got ${rows.length}`,
      );
    for (const [i, text] of texts.entries()) {
      if (/[\r\n]/.test(text)) throw new Error(`append: caption ${this.count + i} contains a line break`);
      let squares = 0;
      for (let j = i * this.dim; j < (i + 1) * this.dim; j++) squares += (rows[j] as number) ** 2;
      if (!(Math.abs(Math.sqrt(squares) - 1) < UNIT_TOLERANCE))
        throw new Error(`append: the embedding of caption ${this.count + i} is not unit length`);
    }
    const halves = float32ToFloat16(rows);
    await this.embeddings.write(new Uint8Array(halves.buffer, halves.byteOffset, halves.byteLength));
    if (texts.length > 0) await this.texts.write(`${texts.join("\n")}\n`);
    this.count += texts.length;
  }

  /** Finishes the files, writes the manifest, and swaps the new bank in for any old one. */
  async commit(corpus?: BankManifest["corpus"]): Promise<BankManifest> {
    if (this.count === 0) throw new Error("commit: a caption bank needs at least one caption");
    await this.closeFiles(true);
    const manifest: BankManifest = {
      format: BANK_FORMAT,
      version: BANK_VERSION,
      model: this.model,
      dim: this.dim,
      count: this.count,
      dtype: "f16",
      created: new Date().toISOString(),
      ...(corpus ? { corpus } : {}),
    };
    await writeFile(join(this.tempDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const previous = await stat(this.dir).then(
      () => `${this.tempDir}.previous`,
      () => undefined,
    );
    if (previous) await rename(this.dir, previous);
    await rename(this.tempDir, this.dir);
    if (previous) await rm(previous, { recursive: true, force: true });
    return manifest;
  }

  /** Drops everything written; the previous bank, if any, is untouched. Safe to call after a failed commit. */
  async abort(): Promise<void> {
    await this.closeFiles(false).catch(() => {});
    await rm(this.tempDir, { recursive: true, force: true });
  }

  private async closeFiles(sync: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (sync) await Promise.all([this.embeddings.datasync(), this.texts.datasync()]);
    } finally {
      await Promise.allSettled([this.embeddings.close(), this.texts.close()]);
    }
  }
}
