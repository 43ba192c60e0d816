import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bruteForce, FAKE_MODEL, randomUnitRows } from "../../test/support/caption-banks.ts";
import { CaptionBankWriter } from "./bank-writer.ts";
import { type BankRows, buildSearchModel, defaultChunkRows } from "./search-model.ts";
import { BankSearchSession, type SearchHits } from "./search-session.ts";

/**
 * The ONNX search must give the brute-force answer. Scores of float32 compute agree to float32 rounding; the
 * ranking agrees except between rows whose scores are closer than that (ties), where either order is right.
 */
function expectSameAsBruteForce(
  hits: SearchHits,
  halves: Uint16Array,
  dim: number,
  queries: Float32Array,
  k: number,
  tolerance: number,
) {
  const expected = bruteForce(halves, dim, queries, k);
  expect(hits.queries).toBe(expected.length);
  expect(hits.k).toBe(Math.min(k, halves.length / dim));
  for (const [q, truth] of expected.entries()) {
    const indices = [...hits.indices.subarray(q * hits.k, (q + 1) * hits.k)];
    const scores = [...hits.scores.subarray(q * hits.k, (q + 1) * hits.k)];
    for (const [j, index] of indices.entries()) {
      // Each answer is scored right, and is as good as the j-th best.
      expect(Math.abs((scores[j] as number) - (truth.all[index] as number))).toBeLessThan(tolerance);
      expect(Math.abs((scores[j] as number) - (truth.scores[j] as number))).toBeLessThan(tolerance);
      if (j > 0) expect(scores[j] as number).toBeLessThanOrEqual((scores[j - 1] as number) + tolerance);
      const tied = truth.scores.some(
        (s, i) => i !== j && Math.abs(s - (truth.scores[j] as number)) < 2 * tolerance,
      );
      if (!tied) expect(index).toBe(truth.indices[j]);
    }
  }
}

describe("caption search (ONNX Runtime, CPU) equals a brute-force search", () => {
  const dirs: string[] = [];
  afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

  async function fileBank(count: number, dim: number, seed: number) {
    const dir = await mkdtemp(join(tmpdir(), "caption-search-"));
    dirs.push(dir);
    const { rows, halves } = randomUnitRows(count, dim, seed);
    const writer = await CaptionBankWriter.create(join(dir, "bank"), { model: FAKE_MODEL, dim });
    // Two appends, to cover the writer's slices too.
    const half = Math.floor(count / 2);
    await writer.append(
      Array.from({ length: half }, (_, i) => `caption ${i}`),
      rows.subarray(0, half * dim),
    );
    await writer.append(
      Array.from({ length: count - half }, (_, i) => `caption ${half + i}`),
      rows.subarray(half * dim),
    );
    await writer.commit();
    return { rows: { kind: "file", dir: join(dir, "bank"), count, dim } as BankRows, halves };
  }

  const cases = [
    { name: "one row, k above the bank size", count: 1, dim: 16, queries: 2, k: 5 },
    { name: "7 rows, k = 7", count: 7, dim: 32, queries: 1, k: 7 },
    { name: "300 rows, 3 queries", count: 300, dim: 64, queries: 3, k: 10 },
    { name: "2000 × 512, 16 queries", count: 2000, dim: 512, queries: 16, k: 5 },
  ];
  for (const [seed, c] of cases.entries()) {
    for (const storage of ["memory", "file"] as const) {
      it(`${c.name} (${storage === "memory" ? "inlined in the model" : "external data from the bank file"})`, async () => {
        const source =
          storage === "memory"
            ? (() => {
                const { halves } = randomUnitRows(c.count, c.dim, seed + 1);
                return { rows: { kind: "memory", halves, count: c.count, dim: c.dim } as BankRows, halves };
              })()
            : await fileBank(c.count, c.dim, seed + 1);
        const session = await BankSearchSession.create(source.rows, { providers: ["cpu"] });
        try {
          expect(session.compute).toBe("f32");
          const { rows: queries } = randomUnitRows(c.queries, c.dim, 1000 + seed);
          expectSameAsBruteForce(
            await session.search(queries, c.queries, c.k),
            source.halves,
            c.dim,
            queries,
            c.k,
            1e-5,
          );
        } finally {
          await session.release();
        }
      });
    }
  }

  it("many chunks: rows split across 9 initializers at page-aligned file offsets give the same answer", async () => {
    const { rows, halves } = await fileBank(1100, 64, 77);
    const model = buildSearchModel(rows, "f32", { chunkRows: 128 });
    expect(model.chunks).toBe(9);
    const session = await BankSearchSession.create(rows, { providers: ["cpu"], chunkRows: 128 });
    try {
      const { rows: queries } = randomUnitRows(4, 64, 78);
      expectSameAsBruteForce(await session.search(queries, 4, 20), halves, 64, queries, 20, 1e-5);
      // A bank row as its own query finds itself first, with a score of ~1.
      const itself = await session.search(
        new Float32Array(randomUnitRows(1100, 64, 77).rows.subarray(640 * 64, 641 * 64)),
        1,
        1,
      );
      expect(itself.indices[0]).toBe(640);
      expect(itself.scores[0]).toBeCloseTo(1, 2);
    } finally {
      await session.release();
    }
  });

  it("float16 compute (the GPU graph) runs on the CPU too, and agrees to float16 rounding", async () => {
    const { halves } = randomUnitRows(500, 64, 5);
    const session = await BankSearchSession.create(
      { kind: "memory", halves, count: 500, dim: 64 },
      { providers: ["cpu"], compute: "f16" },
    );
    try {
      const { rows: queries } = randomUnitRows(3, 64, 6);
      expectSameAsBruteForce(await session.search(queries, 3, 5), halves, 64, queries, 5, 2e-3);
    } finally {
      await session.release();
    }
  });

  it("answers zero queries without running, and refuses short query buffers", async () => {
    const { halves } = randomUnitRows(10, 8, 9);
    const session = await BankSearchSession.create(
      { kind: "memory", halves, count: 10, dim: 8 },
      { providers: ["cpu"] },
    );
    try {
      expect((await session.search(new Float32Array(0), 0, 3)).scores.length).toBe(0);
      await expect(session.search(new Float32Array(7), 1, 3)).rejects.toThrow(RangeError);
    } finally {
      await session.release();
    }
  });
});

describe("search model layout", () => {
  it("chunks hold at most 512 MiB as float32 and start on page boundaries", () => {
    for (const dim of [64, 512, 768, 1024, 1000]) {
      const rows = defaultChunkRows(dim);
      expect(rows * dim * 4).toBeLessThanOrEqual(512 * 2 ** 20);
      expect((rows * dim * 2) % 4096).toBe(0);
    }
    expect(defaultChunkRows(512)).toBe(262_144);
  });

  it("refuses to inline more than a protobuf message can hold", () => {
    const halves = {
      length: 1,
      byteLength: 2 ** 31,
      buffer: new ArrayBuffer(0),
      byteOffset: 0,
    } as unknown as Uint16Array;
    expect(() => buildSearchModel({ kind: "memory", halves, count: 1, dim: 1 }, "f32")).toThrow(
      /too many to inline/,
    );
  });
});

describe("a larger bank: 60k × 512 rows (60 MB) through external data, in 4 chunks", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "caption-search-big-"));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("finds a planted row among 60,000 captions", async () => {
    const count = 60_000;
    const dim = 512;
    const writer = await CaptionBankWriter.create(join(dir, "bank"), { model: FAKE_MODEL, dim });
    const slice = 20_000;
    let planted: Float32Array | undefined;
    for (let start = 0; start < count; start += slice) {
      const { rows } = randomUnitRows(slice, dim, start + 1);
      if (start === 40_000) planted = rows.slice(1234 * dim, 1235 * dim);
      await writer.append(
        Array.from({ length: slice }, (_, i) => `c${start + i}`),
        rows,
      );
    }
    await writer.commit();
    const session = await BankSearchSession.create(
      { kind: "file", dir: join(dir, "bank"), count, dim },
      { providers: ["cpu"], chunkRows: 16_384 },
    );
    try {
      const hits = await session.search(planted as Float32Array, 1, 3);
      expect(hits.indices[0]).toBe(41_234);
      expect(hits.scores[0]).toBeCloseTo(1, 2);
      expect(hits.scores[1]).toBeLessThan(0.5);
    } finally {
      await session.release();
    }
  });
});
