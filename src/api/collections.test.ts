import { describe, expect, it } from "vitest";
import { COLLECTION_NAME, Metadata, parseFilter, QueryRequest, UpsertItem } from "./collections.ts";

describe("collection names", () => {
  it.each(["a", "camera-roll", "Shop_2026", "x".repeat(64)])("accepts %s", (name) => {
    expect(COLLECTION_NAME.test(name)).toBe(true);
  });
  it.each(["", "x".repeat(65), "has space", "dots.no", "ünïcode", "a/b"])("refuses %j", (name) => {
    expect(COLLECTION_NAME.test(name)).toBe(false);
  });
});

describe("parseFilter", () => {
  it("reads equality shorthand and every operator, ANDed in order", () => {
    expect(
      parseFilter({
        colour: "red",
        count: { $gte: 2, $lt: 5 },
        shape: { $in: ["circle", "star"] },
        tag: { $nin: [true] },
        kind: { $ne: "x" },
        n: { $eq: 3, $lte: 4, $gt: 1 },
      }),
    ).toEqual([
      { key: "colour", op: "$eq", value: "red" },
      { key: "count", op: "$gte", value: 2 },
      { key: "count", op: "$lt", value: 5 },
      { key: "shape", op: "$in", value: ["circle", "star"] },
      { key: "tag", op: "$nin", value: [true] },
      { key: "kind", op: "$ne", value: "x" },
      { key: "n", op: "$eq", value: 3 },
      { key: "n", op: "$lte", value: 4 },
      { key: "n", op: "$gt", value: 1 },
    ]);
  });

  it.each([
    [{ count: { $regex: "x" } }, /unknown operator "\$regex"/],
    [{ count: { $gt: "2" } }, /count.\$gt: a number/],
    [{ shape: { $in: [] } }, /a list of 1–100/],
    [{ shape: { $in: [{ a: 1 }] } }, /a list of 1–100/],
    [{ shape: {} }, /give a value or an object/],
    [{ shape: null }, /give a value or an object/],
    [{ shape: [1, 2] }, /give a value or an object/],
    [{ $or: 1 }, /not a metadata key/],
    [{ count: { $eq: Number.NaN } }, /a string, number or boolean/],
    [Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 1])), /at most 16 keys/],
  ])("refuses %j", (filter, message) => {
    expect(() => parseFilter(filter as Record<string, unknown>)).toThrow(message);
  });
});

describe("items and queries", () => {
  it("takes exactly one of image, text or embedding per item", () => {
    expect(UpsertItem.safeParse({ id: "a", text: "a red circle" }).success).toBe(true);
    expect(UpsertItem.safeParse({ id: "a", embedding: [1, 0] }).success).toBe(true);
    expect(UpsertItem.safeParse({ id: "a" }).success).toBe(false);
    expect(UpsertItem.safeParse({ id: "a", text: "t", embedding: [1] }).success).toBe(false);
    expect(UpsertItem.safeParse({ id: "bad\nid", text: "t" }).success).toBe(false);
  });

  it("keeps metadata flat and small", () => {
    expect(Metadata.safeParse({ colour: "red", count: 2, ok: true }).success).toBe(true);
    expect(Metadata.safeParse({ nested: { a: 1 } }).success).toBe(false);
    expect(Metadata.safeParse({ $op: 1 }).success).toBe(false);
    expect(
      Metadata.safeParse({ big: "x".repeat(1000), more: "y".repeat(1000), most: "z".repeat(100) }).success,
    ).toBe(false);
  });

  it("takes exactly one query kind, and exclude_self only with id", () => {
    expect(QueryRequest.safeParse({ text: "a cat" }).success).toBe(true);
    expect(QueryRequest.safeParse({ id: "a", exclude_self: true }).success).toBe(true);
    expect(QueryRequest.safeParse({ text: "a cat", id: "a" }).success).toBe(false);
    expect(QueryRequest.safeParse({}).success).toBe(false);
    expect(QueryRequest.safeParse({ text: "a cat", exclude_self: true }).success).toBe(false);
    expect(QueryRequest.safeParse({ text: "a", filter: { n: { $gt: "x" } } }).success).toBe(false);
  });
});
