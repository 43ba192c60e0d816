import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { FAKE_MODEL, randomUnitRows } from "../../test/support/caption-banks.ts";
import { CaptionTexts, openCaptionBank } from "./bank.ts";
import { EMBEDDINGS_FILE, MANIFEST_FILE, TEXTS_FILE } from "./bank-format.ts";
import { CaptionBankWriter } from "./bank-writer.ts";
import { checkBankModel, type ServedModel } from "./model-match.ts";

const DIM = 8;
const TEXTS = ["a photo of a red circle.", "two blue stars", "quelques étoiles vertes ✨"];

describe("caption bank folders", () => {
  const root = mkdtemp(join(tmpdir(), "caption-bank-"));
  let dir: string;
  afterAll(async () => rm(await root, { recursive: true, force: true }));
  beforeEach(async () => {
    dir = join(await root, `bank-${Math.random().toString(36).slice(2)}`);
    const writer = await CaptionBankWriter.create(dir, { model: FAKE_MODEL, dim: DIM });
    await writer.append(TEXTS, randomUnitRows(TEXTS.length, DIM, 3).rows);
    await writer.commit({ file: "corpus.txt", lines: 4, duplicates: 1, truncated: 0 });
  });

  const opened = async () => {
    const result = await openCaptionBank(dir);
    if (result.ok) throw new Error("expected the bank to be refused");
    return result;
  };

  it("round-trips: manifest, texts (UTF-8 included) and embeddings of the right size", async () => {
    const result = await openCaptionBank(dir);
    if (!result.ok) throw new Error(result.message);
    const { bank } = result;
    expect(bank.count).toBe(3);
    expect(bank.dim).toBe(DIM);
    expect(bank.manifest).toMatchObject({
      format: "clip-edge-caption-bank",
      version: 1,
      dtype: "f16",
      model: FAKE_MODEL,
    });
    expect(bank.manifest.corpus?.duplicates).toBe(1);
    expect(TEXTS.map((_, i) => bank.texts.get(i))).toEqual(TEXTS);
    expect(() => bank.texts.get(3)).toThrow(RangeError);
    expect((await readFile(join(dir, EMBEDDINGS_FILE))).length).toBe(3 * DIM * 2);
  });

  it("refuses a folder without a manifest", async () => {
    await rm(join(dir, MANIFEST_FILE));
    expect(await opened()).toMatchObject({
      code: "missing_file",
      message: expect.stringContaining("manifest.json"),
    });
  });

  it("refuses a manifest that is not JSON, or not ours, naming the field", async () => {
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), "utf8"));
    await writeFile(join(dir, MANIFEST_FILE), "{not json");
    expect((await opened()).code).toBe("invalid_manifest");
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, version: 2 }));
    expect(await opened()).toMatchObject({
      code: "invalid_manifest",
      message: expect.stringContaining("version 2"),
    });
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, count: 0 }));
    expect(await opened()).toMatchObject({
      code: "invalid_manifest",
      message: expect.stringContaining("count must be a positive integer"),
    });
  });

  it("refuses embeddings of the wrong size, or missing", async () => {
    await truncate(join(dir, EMBEDDINGS_FILE), 3 * DIM * 2 - 2);
    expect(await opened()).toMatchObject({
      code: "wrong_size",
      message: expect.stringMatching(/46 bytes; 3 rows of 8 float16 values need 48/),
    });
    await rm(join(dir, EMBEDDINGS_FILE));
    expect((await opened()).code).toBe("missing_file");
  });

  it("refuses rows that are not unit length (here: the bytes swapped, as a big-endian writer would)", async () => {
    const bytes = await readFile(join(dir, EMBEDDINGS_FILE));
    bytes.swap16();
    await writeFile(join(dir, EMBEDDINGS_FILE), bytes);
    expect((await opened()).code).toBe("not_unit_length");
  });

  it("refuses texts.txt with another number of lines than the manifest, or truncated mid-line", async () => {
    await writeFile(join(dir, TEXTS_FILE), `${TEXTS.slice(0, 2).join("\n")}\n`);
    expect(await opened()).toMatchObject({
      code: "wrong_size",
      message: expect.stringContaining("has 2 lines"),
    });
    await writeFile(join(dir, TEXTS_FILE), TEXTS.join("\n"));
    expect(await opened()).toMatchObject({ code: "wrong_size", message: expect.stringContaining("newline") });
  });

  it("the writer refuses captions with line breaks and unnormalised rows", async () => {
    const writer = await CaptionBankWriter.create(join(await root, "refused"), {
      model: FAKE_MODEL,
      dim: DIM,
    });
    try {
      await expect(writer.append(["two\nlines"], randomUnitRows(1, DIM, 1).rows)).rejects.toThrow(
        /line break/,
      );
      await expect(writer.append(["crlf\r"], randomUnitRows(1, DIM, 1).rows)).rejects.toThrow(/line break/);
      await expect(writer.append(["long"], new Float32Array(DIM).fill(1))).rejects.toThrow(/not unit length/);
      await expect(writer.append(["short"], new Float32Array(DIM - 1))).rejects.toThrow(RangeError);
    } finally {
      await writer.abort();
    }
  });

  it("a new build replaces the bank only on commit; an aborted one leaves it and no temporary folder behind", async () => {
    const aborted = await CaptionBankWriter.create(dir, { model: FAKE_MODEL, dim: DIM });
    await aborted.append(["only this"], randomUnitRows(1, DIM, 2).rows);
    await aborted.abort();
    const before = await openCaptionBank(dir);
    expect(before.ok && before.bank.count).toBe(3);

    const replacing = await CaptionBankWriter.create(dir, { model: FAKE_MODEL, dim: DIM });
    await replacing.append(["only this"], randomUnitRows(1, DIM, 2).rows);
    const during = await openCaptionBank(dir);
    expect(during.ok && during.bank.count).toBe(3);
    await replacing.commit();
    const after = await openCaptionBank(dir);
    expect(after.ok && after.bank.texts.get(0)).toBe("only this");
    expect((await readdir(join(dir, ".."))).filter((name) => name.includes(".building-"))).toEqual([]);
  });
});

describe("CaptionTexts", () => {
  it("reads newline-terminated lines, empty file included", () => {
    const texts = CaptionTexts.fromLines(Buffer.from("a\n\nb c\n")) as CaptionTexts;
    expect([texts.count, texts.get(0), texts.get(1), texts.get(2)]).toEqual([3, "a", "", "b c"]);
    expect((CaptionTexts.fromLines(Buffer.alloc(0)) as CaptionTexts).count).toBe(0);
  });
});

describe("checkBankModel", () => {
  const manifest = {
    format: "clip-edge-caption-bank" as const,
    version: 1 as const,
    model: FAKE_MODEL,
    dim: 64,
    count: 10,
    dtype: "f16" as const,
    created: "2026-01-01T00:00:00Z",
  };
  const served: ServedModel = { ...FAKE_MODEL, dim: 64 };

  it("accepts the model that built the bank", () => {
    expect(checkBankModel(manifest, served)).toEqual({ ok: true, notes: [] });
  });

  it("refuses another model id, dimension, vocabulary or text encoder", () => {
    const refused = (changes: Partial<ServedModel>) => checkBankModel(manifest, { ...served, ...changes });
    expect(refused({ id: "openai/clip-vit-base-patch32" })).toMatchObject({
      ok: false,
      code: "model_mismatch",
      message: expect.stringContaining('built for model "fake-model"'),
    });
    expect(refused({ dim: 512 })).toMatchObject({
      ok: false,
      message: expect.stringContaining("64-dimensional"),
    });
    expect(refused({ tokenizerSha256: "f".repeat(64) })).toMatchObject({
      ok: false,
      message: expect.stringContaining("vocabulary"),
    });
    expect(refused({ textEncoder: { precision: "fp32", sha256: "e".repeat(64) } })).toMatchObject({
      ok: false,
      message: expect.stringContaining("retrained"),
    });
  });

  it("serves a bank embedded by another precision of the encoder, with a note", () => {
    const result = checkBankModel(manifest, {
      ...served,
      textEncoder: { precision: "fp16", sha256: "e".repeat(64) },
    });
    expect(result).toMatchObject({
      ok: true,
      notes: [expect.stringContaining("fp32 text encoder, this service runs fp16")],
    });
  });
});
