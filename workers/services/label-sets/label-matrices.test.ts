// Label-set matrices through the real local R2 binding: what a cold isolate decodes is what the creating one served.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { normalizeInPlace } from "../../../src/vector/index.ts";
import { asStored } from "../text-embeddings/kv-codec.ts";
import { LabelMatrices } from "./label-matrices.ts";

/**
 * Rows as the text path serves label embeddings: unit vectors (the ensemble's output is normalised), rounded to
 * float16 and renormalised.
 */
function servedRows(count: number, dim: number, seed: number): Float32Array[] {
  let state = seed;
  const next = () => {
    state = (state * 16807) % 2147483647;
    return state / 2147483647 - 0.5;
  };
  return Array.from({ length: count }, () => {
    const row = Float32Array.from({ length: dim }, next);
    normalizeInPlace(row);
    return asStored(row);
  });
}

describe("LabelMatrices", () => {
  it("gives a fresh isolate, reading R2, the very rows the creating one stored (bit for bit)", async () => {
    const rows = servedRows(300, 512, 7);
    await new LabelMatrices(env.LABEL_SETS).put("ls_aaaaaaaaaaaaaaaaaaaaaaaa", "m/one", rows);
    const cold = await new LabelMatrices(env.LABEL_SETS).get(
      "ls_aaaaaaaaaaaaaaaaaaaaaaaa",
      "m/one",
      300,
      512,
    );
    expect(cold).toHaveLength(300);
    for (const [i, row] of rows.entries()) expect(Array.from(cold?.[i] ?? [])).toEqual(Array.from(row));
  });

  it("answers nothing for another model's key or a shape that does not match, and deletes every model's", async () => {
    const matrices = new LabelMatrices(env.LABEL_SETS, "policies");
    const rows = servedRows(4, 128, 11);
    await matrices.put("mp_bbbbbbbbbbbbbbbbbbbbbbbb", "m/one", rows);
    await matrices.put("mp_bbbbbbbbbbbbbbbbbbbbbbbb", "m/two", rows);
    const cold = () => new LabelMatrices(env.LABEL_SETS, "policies");
    expect(await cold().get("mp_bbbbbbbbbbbbbbbbbbbbbbbb", "m/three", 4, 128)).toBeUndefined();
    expect(await cold().get("mp_bbbbbbbbbbbbbbbbbbbbbbbb", "m/one", 5, 128)).toBeUndefined();
    await matrices.deleteAll("mp_bbbbbbbbbbbbbbbbbbbbbbbb");
    expect(await cold().get("mp_bbbbbbbbbbbbbbbbbbbbbbbb", "m/one", 4, 128)).toBeUndefined();
    expect(await cold().get("mp_bbbbbbbbbbbbbbbbbbbbbbbb", "m/two", 4, 128)).toBeUndefined();
  });
});
