import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkBankModel,
  fileSha256,
  openCaptionBank,
  tokenizerSha256,
} from "../../gpu-service/captions/index.ts";
import { ClipModel } from "../../gpu-service/model/index.ts";
import { loadClipTokenizer } from "../../gpu-service/model/tokenizer-files.ts";
import { captionCorpus } from "../../shapes-world/index.ts";
import { dot, float16ToFloat32, normalizeRows } from "../../src/vector/index.ts";
import { writeFakeClipModel } from "../../test/support/fake-clip-model.ts";
import { main } from "./main.ts";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } },
  };
}

async function bankRows(dir: string) {
  const opened = await openCaptionBank(dir);
  if (!opened.ok) throw new Error(opened.message);
  const bytes = await readFile(opened.bank.embeddingsPath);
  const rows = float16ToFloat32(new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2));
  return {
    bank: opened.bank,
    rows,
    texts: Array.from({ length: opened.bank.count }, (_, i) => opened.bank.texts.get(i)),
  };
}

describe("npm run captions:build (fake model: real tokenizer, ONNX Runtime and files)", () => {
  let root: string;
  let modelDir: string;
  const words = [
    "a",
    "photo",
    "of",
    "the",
    "red",
    "blue",
    "green",
    "circle",
    "square",
    "star",
    "two",
    "three",
  ];
  // Captions of 1 to 9 words, so batches see very different lengths (the longest are cut to the fake model's 16
  // tokens); several windows at --batch 4.
  const captions = Array.from({ length: 150 }, (_, i) =>
    Array.from({ length: 1 + (i % 9) }, (_, j) => words[(i * 7 + j * (3 + (i >> 4))) % words.length]).join(
      " ",
    ),
  );
  const unique = [...new Set(captions)];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "captions-build-"));
    modelDir = (await writeFakeClipModel(join(root, "model"))).dir;
    await writeFile(join(root, "corpus.txt"), `${captions.join("\n")}\n`);
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("embeds every unique caption in corpus order, each row the normalised encoding of its caption alone", async () => {
    const run = io();
    expect(
      await main(["--corpus", join(root, "corpus.txt"), "--model", modelDir, "--batch", "4"], run.io),
    ).toBe(0);
    expect(run.out.join("")).toContain(`Built a caption bank of ${unique.length} captions (16-dim float16`);
    expect(run.out.join("")).toContain(`${captions.length - unique.length} repeats dropped`);
    const { bank, rows, texts } = await bankRows(join(modelDir, "captions"));
    expect(texts).toEqual(unique);
    expect(bank.manifest.corpus).toMatchObject({
      file: "corpus.txt",
      lines: 150,
      duplicates: 150 - unique.length,
    });
    expect(bank.manifest.corpus?.truncated).toBeGreaterThan(0);

    const model = await ClipModel.load(modelDir, { providers: ["cpu"] });
    const tokenizer = await loadClipTokenizer(modelDir);
    try {
      for (let i = 0; i < unique.length; i += 7) {
        const tokens = tokenizer.tokenize([unique[i] as string], { contextLength: 16 });
        const ids = (tokens.ids[0] as Int32Array).subarray(0, tokens.lengths[0]);
        const alone = normalizeRows(
          await model.embedTexts({
            ids: BigInt64Array.from(ids, BigInt),
            count: 1,
            length: ids.length,
            lengths: [ids.length],
          }),
          16,
        );
        expect(dot(alone, rows.subarray(i * 16, (i + 1) * 16))).toBeGreaterThan(0.999);
      }
      expect(
        checkBankModel(bank.manifest, {
          id: model.folder.id,
          dim: 16,
          tokenizerSha256: await tokenizerSha256(modelDir),
          textEncoder: { precision: "fp32", sha256: await fileSha256(model.folder.textModelPath) },
        }),
      ).toEqual({ ok: true, notes: [] });
    } finally {
      await model.release();
    }
  });

  it("a failed build leaves the previous bank as it was; a good one replaces it", async () => {
    const out = join(root, "bank");
    expect(
      await main(["--corpus", join(root, "corpus.txt"), "--model", modelDir, "--out", out], io().io),
    ).toBe(0);
    await writeFile(join(root, "broken.jsonl"), '"fine"\n{"text": "two\\nlines"}\n');
    const failed = io();
    expect(
      await main(["--corpus", join(root, "broken.jsonl"), "--model", modelDir, "--out", out], failed.io),
    ).toBe(1);
    expect(failed.err.join("")).toMatch(/broken\.jsonl:2: the caption contains a line break/);
    expect((await bankRows(out)).texts).toEqual(unique);

    await writeFile(join(root, "small.txt"), "a red circle\nthe blue star\n");
    expect(
      await main(["--corpus", join(root, "small.txt"), "--model", modelDir, "--out", out], io().io),
    ).toBe(0);
    expect((await bankRows(out)).texts).toEqual(["a red circle", "the blue star"]);
  });

  it("reports a missing model folder or bad arguments in one line", async () => {
    const missing = io();
    expect(
      await main(["--corpus", join(root, "corpus.txt"), "--model", join(root, "nope")], missing.io),
    ).toBe(1);
    expect(missing.err.join("")).toMatch(/^captions:build: no vocabulary at .*nope\n$/);
    const bad = io();
    expect(await main(["--model", modelDir], bad.io)).toBe(2);
    expect(bad.err.join("")).toMatch(/--corpus FILE is required/);
    const help = io();
    expect(await main(["--help"], help.io)).toBe(0);
    expect(help.out.join("")).toMatch(/^Usage: npm run captions:build/);
  });
});

const REAL_MODEL = process.env.TEST_MODEL_DIR ?? "models/tiny-clip";
const realModelPresent = existsSync(join(REAL_MODEL, "onnx", "text_model.onnx"));
if (!realModelPresent)
  console.warn(
    `captions:build real-model test skipped: ${REAL_MODEL}/onnx/text_model.onnx is absent (train or pull it first)`,
  );

describe.skipIf(!realModelPresent)(`captions:build with the real model (${REAL_MODEL})`, () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "captions-build-real-"));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  // Whether the captions are good is the model's quality (test/e2e/accuracy.test.ts); here the bank must
  // hold exactly the model's own encoding of every caption of the shapes world, in corpus order.
  it("builds the bank of all shapes-world captions, each row the model's encoding of its caption", async () => {
    await writeFile(join(root, "shapes.txt"), captionCorpus());
    const argv = ["--corpus", join(root, "shapes.txt"), "--model", REAL_MODEL, "--out", join(root, "bank")];
    expect(await main(argv, io().io)).toBe(0);
    const { bank, rows, texts } = await bankRows(join(root, "bank"));
    expect(bank.count).toBe(224);
    expect(texts).toEqual(captionCorpus().trimEnd().split("\n"));
    const model = await ClipModel.load(REAL_MODEL, { providers: ["cpu"] });
    const tokenizer = await loadClipTokenizer(REAL_MODEL);
    try {
      expect(bank.dim).toBe(model.embeddingDim);
      for (let i = 0; i < bank.count; i += 37) {
        const ids = tokenizer.encode(texts[i] as string);
        const alone = normalizeRows(
          await model.embedTexts({
            ids: BigInt64Array.from(ids, BigInt),
            count: 1,
            length: ids.length,
            lengths: [ids.length],
          }),
          bank.dim,
        );
        expect(dot(alone, rows.subarray(i * bank.dim, (i + 1) * bank.dim))).toBeGreaterThan(0.999);
      }
    } finally {
      await model.release();
    }
  });
});
