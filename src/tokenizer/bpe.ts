import type { MergeTable } from "./merge-table.ts";

/** Words longer than this many symbols use the heap-based merge loop, which stays O(n log n) on 1 MB inputs. */
const SHORT_WORD = 48;

/**
 * Applies BPE merges to one word given as symbol ids, exactly as `simple_tokenizer.py`'s `bpe()`: repeatedly take the
 * pair with the lowest merge rank and merge every occurrence of it, left to right, until no pair merges.
 * Returns the merged ids (the input array may be reused).
 *
 * @example applyMerges(Int32Array.of(idOf("c"), idOf("a"), idOf("t</w>")), table) → [idOf("cat</w>")]
 */
export function applyMerges(symbols: Int32Array, merges: MergeTable): Int32Array {
  return symbols.length > SHORT_WORD
    ? applyMergesWithHeap(symbols, merges)
    : applyMergesByScan(symbols, merges);
}

/** The reference loop, on ids: O(n²) but the fastest for the short words that make up nearly all text. */
export function applyMergesByScan(symbols: Int32Array, merges: MergeTable): Int32Array {
  let length = symbols.length;
  while (length > 1) {
    let bestRank = -1;
    for (let i = 0; i < length - 1; i++) {
      const rank = merges.rank(symbols[i] as number, symbols[i + 1] as number);
      if (rank !== -1 && (bestRank === -1 || rank < bestRank)) bestRank = rank;
    }
    if (bestRank === -1) break;
    const merged = merges.result(bestRank);
    let write = 0;
    for (let read = 0; read < length; read++) {
      if (
        read < length - 1 &&
        merges.rank(symbols[read] as number, symbols[read + 1] as number) === bestRank
      ) {
        symbols[write++] = merged;
        read++;
      } else {
        symbols[write++] = symbols[read] as number;
      }
    }
    length = write;
  }
  return symbols.subarray(0, length);
}

/**
 * The same result for long words: symbols in a linked list, candidate pairs in a min-heap ordered by (rank, position).
 * All occurrences of the lowest rank are taken off the heap together and merged left to right, which is what the
 * reference's one pass per bigram does; stale entries are skipped when their pair no longer stands.
 */
export function applyMergesWithHeap(symbols: Int32Array, merges: MergeTable): Int32Array {
  const n = symbols.length;
  const ids = Int32Array.from(symbols);
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  const heap = new PairHeap();
  for (let i = 0; i + 1 < n; i++) {
    const rank = merges.rank(ids[i] as number, ids[i + 1] as number);
    if (rank !== -1) heap.push(rank, i);
  }
  const batch: number[] = [];
  while (heap.length > 0) {
    const rank = heap.peekRank();
    batch.length = 0;
    while (heap.length > 0 && heap.peekRank() === rank) batch.push(heap.pop());
    batch.sort((a, b) => a - b);
    const merged = merges.result(rank);
    for (const left of batch) {
      const right = next[left] as number;
      // Stale: the left symbol was absorbed (its id is reset to -1) or its pair changed since it was queued.
      if (ids[left] === -1 || right === -1 || merges.rank(ids[left] as number, ids[right] as number) !== rank)
        continue;
      ids[left] = merged;
      ids[right] = -1;
      const after = next[right] as number;
      next[left] = after;
      if (after !== -1) prev[after] = left;
      const before = prev[left] as number;
      if (before !== -1) {
        const r = merges.rank(ids[before] as number, merged);
        if (r !== -1) heap.push(r, before);
      }
      if (after !== -1) {
        const r = merges.rank(merged, ids[after] as number);
        if (r !== -1) heap.push(r, left);
      }
    }
  }
  const out: number[] = [];
  for (let i = 0; i !== -1; i = next[i] as number) out.push(ids[i] as number);
  return Int32Array.from(out);
}

/** A binary min-heap of (rank, position) pairs packed into one float64 each: rank * 2^26 + position. */
class PairHeap {
  private readonly items: number[] = [];
  private static readonly SCALE = 2 ** 26;

  get length(): number {
    return this.items.length;
  }

  push(rank: number, position: number): void {
    const items = this.items;
    let i = items.length;
    items.push(rank * PairHeap.SCALE + position);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= (items[i] as number)) break;
      [items[parent], items[i]] = [items[i] as number, items[parent] as number];
      i = parent;
    }
  }

  peekRank(): number {
    return Math.floor((this.items[0] as number) / PairHeap.SCALE);
  }

  /** Removes the smallest entry and returns its position. */
  pop(): number {
    const items = this.items;
    const top = items[0] as number;
    const last = items.pop() as number;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < items.length && (items[l] as number) < (items[smallest] as number)) smallest = l;
        if (r < items.length && (items[r] as number) < (items[smallest] as number)) smallest = r;
        if (smallest === i) break;
        [items[smallest], items[i]] = [items[i] as number, items[smallest] as number];
        i = smallest;
      }
    }
    return top % PairHeap.SCALE;
  }
}
