/**
 * BPE merge ranks keyed by a pair of token ids, in flat typed arrays (open addressing, linear probing): looking a
 * pair up is the innermost operation of tokenisation, and ids as keys avoid building strings for every probe.
 *
 * @example
 * const table = new MergeTable(2);
 * table.add(5, 7, 100);          // rank 0: (5, 7) → 100
 * table.rank(5, 7) === 0; table.rank(7, 5) === -1; table.result(0) === 100
 */
export class MergeTable {
  readonly size: number;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly ranks: Int32Array;
  private readonly results: Int32Array;
  private readonly mask: number;
  private count = 0;

  constructor(capacity: number) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.size = capacity;
    this.mask = slots - 1;
    this.left = new Int32Array(slots).fill(-1);
    this.right = new Int32Array(slots);
    this.ranks = new Int32Array(slots);
    this.results = new Int32Array(capacity);
  }

  /** Adds the next merge (ranks are given in order); a repeated pair takes its later rank, as Python's dict does. */
  add(left: number, right: number, result: number): void {
    if (this.count >= this.size) throw new RangeError("MergeTable is full");
    const rank = this.count++;
    this.results[rank] = result;
    let slot = hashPair(left, right) & this.mask;
    while (this.left[slot] !== -1) {
      if (this.left[slot] === left && this.right[slot] === right) break;
      slot = (slot + 1) & this.mask;
    }
    this.left[slot] = left;
    this.right[slot] = right;
    this.ranks[slot] = rank;
  }

  /** The rank of merging `left` then `right`, or -1 when the pair never merges. */
  rank(left: number, right: number): number {
    let slot = hashPair(left, right) & this.mask;
    for (;;) {
      const stored = this.left[slot] as number;
      if (stored === -1) return -1;
      if (stored === left && this.right[slot] === right) return this.ranks[slot] as number;
      slot = (slot + 1) & this.mask;
    }
  }

  /** The token id a merge of the given rank produces. */
  result(rank: number): number {
    return this.results[rank] as number;
  }
}

function hashPair(left: number, right: number): number {
  return (Math.imul(left, 0x9e3779b1) ^ Math.imul(right, 0x85ebca77)) >>> 0;
}
