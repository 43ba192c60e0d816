import { open, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { float16ToFloat32 } from "../../src/vector/index.ts";
import {
  type BankManifest,
  BYTES_PER_VALUE,
  EMBEDDINGS_FILE,
  embeddingsBytes,
  MANIFEST_FILE,
  parseManifest,
  TEXTS_FILE,
} from "./bank-format.ts";

/** Why a bank cannot be served. */
export type BankErrorCode =
  | "missing_file"
  | "invalid_manifest"
  | "wrong_size"
  | "not_unit_length"
  | "model_mismatch";
export type BankError = { ok: false; code: BankErrorCode; message: string };

/** A bank folder checked against its manifest. Embeddings stay on disk (ONNX Runtime maps them); texts are in memory. */
export interface CaptionBank {
  dir: string;
  manifest: BankManifest;
  count: number;
  dim: number;
  /** The float16 rows, `count × dim`, for the search session to map. */
  embeddingsPath: string;
  texts: CaptionTexts;
}

/** How many rows are read back to check they are unit length (spread over the file; cheap even for 10M rows). */
const SAMPLED_ROWS = 32;
const UNIT_TOLERANCE = 2e-2;

/**
 * Opens a caption bank folder: reads and checks the manifest, checks embeddings.f16 has exactly `count × dim`
 * float16 values and a sample of its rows is unit length, and loads texts.txt (which must hold `count` lines).
 * Problems come back as values whose message names the file.
 *
 * @example
 * const opened = await openCaptionBank("models/tiny-clip/captions");
 * if (opened.ok) opened.bank.texts.get(0); // "a photo of a red circle."
 */
export async function openCaptionBank(dir: string): Promise<{ ok: true; bank: CaptionBank } | BankError> {
  const root = resolve(dir);
  const fail = (code: BankErrorCode, file: string, message: string): BankError => ({
    ok: false,
    code,
    message: `${join(root, file)}: ${message}`,
  });
  let manifestText: string;
  try {
    manifestText = await readFile(join(root, MANIFEST_FILE), "utf8");
  } catch {
    return fail("missing_file", MANIFEST_FILE, "is missing (not a caption bank, or one still being built)");
  }
  let parsed: ReturnType<typeof parseManifest>;
  try {
    parsed = parseManifest(JSON.parse(manifestText));
  } catch (error) {
    return fail("invalid_manifest", MANIFEST_FILE, `is not valid JSON (${(error as Error).message})`);
  }
  if (!parsed.ok) return fail("invalid_manifest", MANIFEST_FILE, parsed.message);
  const { manifest } = parsed;
  const { count, dim } = manifest;

  const embeddingsPath = join(root, EMBEDDINGS_FILE);
  const size = await stat(embeddingsPath).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
  if (size === undefined) return fail("missing_file", EMBEDDINGS_FILE, "is missing");
  if (size !== embeddingsBytes(count, dim)) {
    return fail(
      "wrong_size",
      EMBEDDINGS_FILE,
      `has ${size} bytes; ${count} rows of ${dim} float16 values need ${embeddingsBytes(count, dim)}`,
    );
  }
  const notUnit = await firstNonUnitRow(embeddingsPath, count, dim);
  if (notUnit !== undefined) {
    return fail(
      "not_unit_length",
      EMBEDDINGS_FILE,
      `row ${notUnit.row} has length ${notUnit.norm.toFixed(4)}, not 1 (wrong byte order or dtype, or unnormalised)`,
    );
  }

  let textBytes: Buffer;
  try {
    textBytes = await readFile(join(root, TEXTS_FILE));
  } catch {
    return fail("missing_file", TEXTS_FILE, "is missing");
  }
  const texts = CaptionTexts.fromLines(textBytes);
  if (typeof texts === "string") return fail("wrong_size", TEXTS_FILE, texts);
  if (texts.count !== count)
    return fail("wrong_size", TEXTS_FILE, `has ${texts.count} lines, the manifest says ${count} captions`);
  return { ok: true, bank: { dir: root, manifest, count, dim, embeddingsPath, texts } };
}

/**
 * Caption texts in one buffer with an offset per line: a million captions cost their bytes plus 8 bytes each,
 * not a million strings. Each is decoded when asked for.
 *
 * @example CaptionTexts.fromLines(Buffer.from("a\nb c\n")).get(1) === "b c"
 */
export class CaptionTexts {
  private readonly bytes: Uint8Array;
  /** starts[i] is where line i begins; starts[count] is one past the last newline. */
  private readonly starts: Float64Array;
  private readonly decoder = new TextDecoder();

  private constructor(bytes: Uint8Array, starts: Float64Array) {
    this.bytes = bytes;
    this.starts = starts;
  }

  /** Splits newline-terminated lines; a problem comes back as a message. */
  static fromLines(bytes: Buffer): CaptionTexts | string {
    if (bytes.length > 0 && bytes[bytes.length - 1] !== 0x0a)
      return "does not end with a newline (truncated?)";
    let lines = 0;
    for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) lines++;
    const starts = new Float64Array(lines + 1);
    let line = 0;
    for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) starts[++line] = at + 1;
    return new CaptionTexts(bytes, starts);
  }

  get count(): number {
    return this.starts.length - 1;
  }

  get(index: number): string {
    if (!(Number.isInteger(index) && index >= 0 && index < this.count))
      throw new RangeError(`caption ${index} is outside 0..${this.count - 1}`);
    const start = this.starts[index] as number;
    const end = (this.starts[index + 1] as number) - 1;
    return this.decoder.decode(this.bytes.subarray(start, end));
  }
}

async function firstNonUnitRow(
  path: string,
  count: number,
  dim: number,
): Promise<{ row: number; norm: number } | undefined> {
  const file = await open(path, "r");
  try {
    const rowBytes = dim * BYTES_PER_VALUE;
    const buffer = new Uint8Array(rowBytes);
    const samples = Math.min(SAMPLED_ROWS, count);
    const rows = new Set(Array.from({ length: samples }, (_, i) => Math.floor((i * count) / samples)));
    rows.add(count - 1);
    for (const row of rows) {
      await file.read(buffer, 0, rowBytes, row * rowBytes);
      const values = float16ToFloat32(new Uint16Array(buffer.buffer, 0, dim));
      let squares = 0;
      for (const v of values) squares += v * v;
      const norm = Math.sqrt(squares);
      if (!(Math.abs(norm - 1) < UNIT_TOLERANCE)) return { row, norm };
    }
    return undefined;
  } finally {
    await file.close();
  }
}
