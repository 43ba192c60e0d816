import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Precision } from "../model-folder.ts";
import { PRECISIONS } from "./layout.ts";

/** The pull's own bookkeeping inside a model folder (lock, verified files, completion); the service never reads it. */
export const STATE_DIR = ".pull";

const VERIFIED_FILE = "verified.json";

/** Where the "complete" marker of a pull of `precision` into `dir` lives. */
export function completeMarkerPath(dir: string, precision: Precision): string {
  return join(dir, STATE_DIR, `complete-${precision}.json`);
}

/** What a file looked like on disk right after it was verified against `hash` (see checksum.ts expectedHash). */
export interface VerifiedEntry {
  size: number;
  hash: string;
  ino: number;
  mtimeMs: number;
  ctimeMs: number;
}

/**
 * The files of a folder verified by an earlier pull, so a restart does not re-hash gigabytes: a file counts as verified
 * while its size, inode, mtime and ctime are those recorded right after its hash matched. Any write, replacement or
 * `touch` changes one of them (ctime cannot be set back from user space), and then the file is hashed again — the
 * same trust git's index puts in stat data.
 *
 * @example const verified = await VerifiedFiles.read("models/clip"); await verified.vouchesFor("config.json", 4242, "git-sha1:…")
 */
export class VerifiedFiles {
  readonly #dir: string;
  readonly #entries: Map<string, VerifiedEntry>;

  private constructor(dir: string, entries: Map<string, VerifiedEntry>) {
    this.#dir = dir;
    this.#entries = entries;
  }

  /** The manifest of `dir`; an absent or unreadable one is empty (every file is then hashed once more). */
  static async read(dir: string): Promise<VerifiedFiles> {
    const json = await readJson(join(dir, STATE_DIR, VERIFIED_FILE));
    const files = (json as { files?: unknown } | null)?.files;
    const entries = new Map<string, VerifiedEntry>();
    if (typeof files === "object" && files !== null)
      for (const [path, entry] of Object.entries(files)) if (isEntry(entry)) entries.set(path, entry);
    return new VerifiedFiles(dir, entries);
  }

  /** Whether `path` is, untouched, the file verified earlier against `hash` with `size` bytes. */
  async vouchesFor(path: string, size: number, hash: string): Promise<boolean> {
    const entry = this.#entries.get(path);
    if (entry === undefined || entry.hash !== hash || entry.size !== size) return false;
    const now = await statOf(join(this.#dir, path));
    return (
      now !== null &&
      now.size === entry.size &&
      now.ino === entry.ino &&
      now.mtimeMs === entry.mtimeMs &&
      now.ctimeMs === entry.ctimeMs
    );
  }

  /** Records that `path`, as it is on disk now, was verified against `hash`; written atomically before it returns. */
  async record(path: string, hash: string): Promise<void> {
    const now = await statOf(join(this.#dir, path));
    if (now === null) return;
    this.#entries.set(path, {
      size: now.size,
      hash,
      ino: now.ino,
      mtimeMs: now.mtimeMs,
      ctimeMs: now.ctimeMs,
    });
    await writeAtomically(
      join(this.#dir, STATE_DIR, VERIFIED_FILE),
      JSON.stringify({ version: 1, files: Object.fromEntries(this.#entries) }, null, 1),
    );
  }
}

/** The marker a pull writes last: the folder held exactly these files, verified, and loaded as a model folder. */
export interface CompleteMarker {
  repo: string;
  revision: string;
  commit: string;
  precision: Precision;
  files: { path: string; size: number; hash: string }[];
  completedAt: string;
}

/** The marker for `precision`, or null when the folder holds no complete pull of it. */
export async function readCompleteMarker(dir: string, precision: Precision): Promise<CompleteMarker | null> {
  const json = (await readJson(completeMarkerPath(dir, precision))) as Partial<CompleteMarker> | null;
  if (
    json === null ||
    typeof json.repo !== "string" ||
    typeof json.revision !== "string" ||
    typeof json.commit !== "string" ||
    json.precision !== precision ||
    !Array.isArray(json.files) ||
    !json.files.every(
      (f) => typeof f?.path === "string" && Number.isInteger(f.size) && typeof f.hash === "string",
    )
  )
    return null;
  return json as CompleteMarker;
}

export async function writeCompleteMarker(dir: string, marker: CompleteMarker): Promise<void> {
  await writeAtomically(completeMarkerPath(dir, marker.precision), JSON.stringify(marker, null, 1));
}

/**
 * Removes, before the first byte of the folder changes, the marker of `precision` and of every other precision whose
 * pull listed one of the `changing` paths (config and tokenizer files are shared): a pull interrupted from then on
 * leaves no marker calling those files complete. A precision whose files are all left alone keeps its marker, so an
 * fp16 pull into a folder serving fp32 does not make fp32 unservable (../model-folder.ts refuses a folder without
 * the marker of the precision it loads).
 *
 * @example await clearCompleteMarkers("models/clip", "fp16", ["onnx/vision_model_fp16.onnx"]) // fp32's stays
 */
export async function clearCompleteMarkers(
  dir: string,
  precision: Precision,
  changing: readonly string[],
): Promise<void> {
  if (changing.length === 0) return;
  const paths = new Set(changing);
  for (const other of PRECISIONS) {
    const marker = await readCompleteMarker(dir, other);
    const touched = marker === null || marker.files.some((file) => paths.has(file.path));
    if (other === precision || touched) await rm(completeMarkerPath(dir, other), { force: true });
  }
  await syncDirectory(join(dir, STATE_DIR));
}

/** Writes `text` to a temporary file, flushes it, and renames it over `path`: readers see the old or the new text. */
export async function writeAtomically(path: string, text: string): Promise<void> {
  const directory = join(path, "..");
  await mkdir(directory, { recursive: true });
  const temporary = `${path}.${process.pid}-${randomBytes(4).toString("hex")}.tmp`;
  const handle = await open(temporary, "w");
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await syncDirectory(directory);
}

/** Makes renames and removals in `dir` durable (a power cut after a rename must not bring the old name back). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r").catch(() => null);
  if (handle === null) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on a directory; the rename itself is still atomic.
  } finally {
    await handle.close();
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch {
    return null;
  }
}

function isEntry(value: unknown): value is VerifiedEntry {
  const entry = value as VerifiedEntry;
  return (
    typeof entry === "object" &&
    entry !== null &&
    typeof entry.hash === "string" &&
    [entry.size, entry.ino, entry.mtimeMs, entry.ctimeMs].every((n) => typeof n === "number")
  );
}

async function statOf(path: string) {
  return stat(path).then(
    (s) => (s.isFile() ? s : null),
    () => null,
  );
}
