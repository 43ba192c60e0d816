import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Lru } from "./lru.ts";

/** The obvious LRU: a Map reordered on every use (what Lru was before it kept its own list). */
class ReferenceLru {
  readonly entries = new Map<number, number>();
  readonly capacity: number;
  constructor(capacity: number) {
    this.capacity = capacity;
  }
  get(key: number) {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }
  set(key: number, value: number) {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as number);
  }
  delete(key: number) {
    this.entries.delete(key);
  }
}

describe("Lru", () => {
  it("evicts the least recently used entry", () => {
    const lru = new Lru<string, number>(2);
    lru.set("a", 1);
    lru.set("b", 2);
    lru.get("a");
    lru.set("c", 3);
    expect([lru.has("a"), lru.has("b"), lru.has("c")]).toEqual([true, false, true]);
    expect(lru.size).toBe(2);
  });

  it("agrees with a Map reordered on every use, over any sequence of gets, sets and deletes", () => {
    const op = fc.tuple(fc.constantFrom("get", "set", "delete"), fc.integer({ min: 0, max: 12 }));
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
        const lru = new Lru<number, number>(capacity);
        const reference = new ReferenceLru(capacity);
        for (const [i, [kind, key]] of ops.entries()) {
          if (kind === "get") expect(lru.get(key)).toBe(reference.get(key));
          else if (kind === "set") {
            lru.set(key, i);
            reference.set(key, i);
          } else {
            lru.delete(key);
            reference.delete(key);
          }
          expect(lru.size).toBe(reference.entries.size);
        }
        for (let key = 0; key <= 12; key++) expect(lru.has(key)).toBe(reference.entries.has(key));
      }),
      { numRuns: 500 },
    );
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new Lru(0)).toThrow(RangeError);
    expect(() => new Lru(1.5)).toThrow(RangeError);
  });
});
